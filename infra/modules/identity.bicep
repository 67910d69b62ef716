// The user-assigned managed identity both apps run as: it reads and writes the archive container (no account keys)
// and, when a registry is given, pulls the images.
@description('Azure region.')
param location string

@description('Identity name.')
param name string

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
}

output id string = identity.id
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId

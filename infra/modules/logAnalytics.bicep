// Log Analytics workspace: the Container Apps environment sends the apps' console logs here.
@description('Azure region.')
param location string

@description('Workspace name.')
param name string

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: name
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

output id string = workspace.id
output customerId string = workspace.properties.customerId
output name string = workspace.name

// Lets the apps' identity pull images from an existing Azure Container Registry (AcrPull), so no registry password
// is stored anywhere.
@description('Name of the registry (same resource group).')
param registryName string

@description('Principal id of the apps\' identity.')
param principalId string

// Built-in role "AcrPull".
var acrPull = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '7f951dda-4ed3-4680-a7ca-43fe172d538d')

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = {
  name: registryName
}

resource pull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: registry
  name: guid(registry.id, principalId, acrPull)
  properties: {
    roleDefinitionId: acrPull
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

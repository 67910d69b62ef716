// The Container Apps managed environment, inside the network (workload profiles: the apps subnet is delegated), with
// the apps' logs going to Log Analytics.
@description('Azure region.')
param location string

@description('Environment name.')
param name string

@description('Subnet delegated to Microsoft.App/environments.')
param subnetId string

@description('Name of the Log Analytics workspace (same resource group).')
param workspaceName string

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
}

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: name
  location: location
  properties: {
    vnetConfiguration: {
      infrastructureSubnetId: subnetId
      internal: false
    }
    workloadProfiles: [
      { name: 'Consumption', workloadProfileType: 'Consumption' }
    ]
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: workspace.properties.customerId
        sharedKey: workspace.listKeys().primarySharedKey
      }
    }
  }
}

output id string = environment.id
output defaultDomain string = environment.properties.defaultDomain

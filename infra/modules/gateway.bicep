// The gateway: the REST edge clients use, with external HTTPS ingress and a scale rule on concurrent requests. It is an
// Orleans client of the silos' cluster (ADO.NET clustering in the shared database) and streams bodies to the silos.
@description('Azure region.')
param location string

@description('Container app name.')
param name string

@description('Managed environment id.')
param environmentId string

@description('Image of the gateway, e.g. myregistry.azurecr.io/orleansbus-gateway:1.')
param image string

@description('Resource id of the user-assigned identity.')
param identityId string

@description('Registry server to pull the image from with the identity; empty for a public image.')
param registryServer string

@description('Npgsql connection string of the shared database.')
@secure()
param postgresConnectionString string

@description('Most replicas under load.')
@minValue(1)
param maxReplicas int = 5

@description('Concurrent requests per replica before another one is added.')
param concurrentRequests int = 200

resource gateway 'Microsoft.App/containerApps@2024-03-01' = {
  name: name
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    environmentId: environmentId
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: 8090
        transport: 'http'
        allowInsecure: false
      }
      secrets: [
        { name: 'postgres-connection-string', value: postgresConnectionString }
      ]
      registries: empty(registryServer) ? [] : [
        { server: registryServer, identity: identityId }
      ]
    }
    template: {
      containers: [
        {
          name: 'gateway'
          image: image
          resources: { cpu: json('1.0'), memory: '2Gi' }
          env: [
            { name: 'ASPNETCORE_URLS', value: 'http://+:8090' }
            { name: 'Gateway__PostgresConnectionString', secretRef: 'postgres-connection-string' }
            { name: 'Gateway__PostgresSchema', value: 'public' }
          ]
          probes: [
            {
              type: 'Liveness'
              httpGet: { path: '/health/live', port: 8090 }
              periodSeconds: 10
            }
            {
              type: 'Readiness'
              httpGet: { path: '/health/ready', port: 8090 }
              periodSeconds: 5
            }
          ]
        }
      ]
      scale: {
        minReplicas: 1
        maxReplicas: maxReplicas
        rules: [
          {
            name: 'concurrent-requests'
            http: { metadata: { concurrentRequests: string(concurrentRequests) } }
          }
        ]
      }
    }
  }
}

output url string = 'https://${gateway.properties.configuration.ingress.fqdn}'

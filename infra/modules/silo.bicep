// The silos: one container app with N replicas. HTTP (the bus API, replication and reads between silos) on 8080 with
// internal ingress only, and Orleans' silo-to-silo (11111) and client gateway (30000) ports exposed to the environment.
// Every replica advertises its own address (Orleans and HTTP: "auto" = the replica's first non-loopback IPv4) and takes
// its host name as its silo id.
//
// Chunk data volume: EmptyDir (the replica's own disk, gone when the replica is replaced). Fast local appends and
// fdatasync, which the write path is built for; durability across a lost replica comes from replication
// (Bus:ReplicationFactor, min_sync_replicas) and the blob archive, not from the volume. A replaced replica joins as a
// new silo (new id); replicas seal the old one's active chunks. Azure Files would survive replacement but gives SMB
// latency on every fdatasync and no reliable file locks, so it is not used for chunks.
@description('Azure region.')
param location string

@description('Container app name.')
param name string

@description('Managed environment id.')
param environmentId string

@description('Image of the silo, e.g. myregistry.azurecr.io/orleansbus-silo:1.')
param image string

@description('Number of silos (fixed: each one owns the chunks it writes).')
@minValue(1)
@maxValue(30)
param siloCount int

@description('Resource id of the user-assigned identity.')
param identityId string

@description('Client id of the user-assigned identity (DefaultAzureCredential picks it with AZURE_CLIENT_ID).')
param identityClientId string

@description('Registry server to pull the image from with the identity; empty for a public image.')
param registryServer string

@description('Npgsql connection string of the shared database.')
@secure()
param postgresConnectionString string

@description('Blob endpoint of the archive account, e.g. https://acct.blob.core.windows.net/.')
param blobEndpoint string

@description('Archive container.')
param blobContainer string

@description('Copies of each active chunk, the owner\'s included.')
param replicationFactor int

resource silo 'Microsoft.App/containerApps@2024-03-01' = {
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
        external: false
        targetPort: 8080
        transport: 'http'
        allowInsecure: true
        additionalPortMappings: [
          { external: false, targetPort: 11111, exposedPort: 11111 }
          { external: false, targetPort: 30000, exposedPort: 30000 }
        ]
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
          name: 'silo'
          image: image
          resources: { cpu: json('2.0'), memory: '4Gi' }
          env: [
            { name: 'ASPNETCORE_URLS', value: 'http://+:8080' }
            { name: 'Bus__SiloId', value: 'auto' }
            { name: 'Bus__AdvertiseUrl', value: 'auto' }
            { name: 'Bus__DataDir', value: '/data' }
            { name: 'Bus__Metadata', value: 'postgres' }
            { name: 'Bus__PostgresConnectionString', secretRef: 'postgres-connection-string' }
            { name: 'Bus__ReplicationFactor', value: string(replicationFactor) }
            { name: 'Bus__Archive__Kind', value: 'blob' }
            { name: 'Bus__Archive__Blob__ServiceUri', value: blobEndpoint }
            { name: 'Bus__Archive__Blob__Container', value: blobContainer }
            { name: 'Bus__Archive__Blob__UseDefaultCredential', value: 'true' }
            { name: 'AZURE_CLIENT_ID', value: identityClientId }
            { name: 'Orleans__Endpoints__SiloPort', value: '11111' }
            { name: 'Orleans__Endpoints__GatewayPort', value: '30000' }
            { name: 'Orleans__Endpoints__AdvertisedIPAddress', value: 'auto' }
          ]
          volumeMounts: [
            { volumeName: 'chunks', mountPath: '/data' }
          ]
          probes: [
            {
              type: 'Liveness'
              httpGet: { path: '/health/live', port: 8080 }
              periodSeconds: 10
              failureThreshold: 3
            }
            {
              type: 'Readiness'
              httpGet: { path: '/health/ready', port: 8080 }
              periodSeconds: 5
              failureThreshold: 3
            }
            {
              type: 'Startup'
              httpGet: { path: '/health/live', port: 8080 }
              periodSeconds: 5
              failureThreshold: 60
            }
          ]
        }
      ]
      volumes: [
        { name: 'chunks', storageType: 'EmptyDir' }
      ]
      scale: { minReplicas: siloCount, maxReplicas: siloCount }
    }
  }
}

output fqdn string = silo.properties.configuration.ingress.fqdn

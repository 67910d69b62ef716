// OrleansBus on Azure Container Apps: silos (N replicas) and the gateway in one managed environment inside a virtual
// network, PostgreSQL Flexible Server (private access) for Orleans membership, the catalog and consumer groups, and a
// storage account for sealed chunks, reached with a user-assigned managed identity (no account keys).
// Deploy: docs/deploy.md. The apps read the same configuration keys as on a laptop (Bus:*, Orleans:*, Gateway:*).
targetScope = 'resourceGroup'

@description('Azure region of every resource.')
param location string = resourceGroup().location

@description('Prefix of every resource name (lowercase letters and digits).')
@minLength(3)
@maxLength(11)
param namePrefix string

@description('Silo image, e.g. myregistry.azurecr.io/orleansbus-silo:1.')
param siloImage string

@description('Gateway image, e.g. myregistry.azurecr.io/orleansbus-gateway:1.')
param gatewayImage string

@description('Name of an Azure Container Registry in this resource group to pull the images from with the apps\' identity (AcrPull); empty for public images.')
param registryName string = ''

@description('Number of silos.')
@minValue(1)
@maxValue(30)
param siloCount int = 3

@description('Copies of each active chunk, the owner\'s included (at most the number of silos).')
@minValue(1)
@maxValue(5)
param replicationFactor int = 2

@description('PostgreSQL administrator login.')
param postgresAdminLogin string

@description('PostgreSQL administrator password (give it at deployment time; it is stored only as a Container Apps secret).')
@secure()
param postgresAdminPassword string

module logs 'modules/logAnalytics.bicep' = {
  name: 'logs'
  params: { location: location, name: '${namePrefix}-logs' }
}

module network 'modules/network.bicep' = {
  name: 'network'
  params: { location: location, namePrefix: namePrefix }
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: { location: location, name: '${namePrefix}-apps' }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    name: '${namePrefix}${uniqueString(resourceGroup().id)}'
    principalId: identity.outputs.principalId
  }
}

module postgres 'modules/postgres.bicep' = {
  name: 'postgres'
  params: {
    location: location
    name: '${namePrefix}-pg-${uniqueString(resourceGroup().id)}'
    administratorLogin: postgresAdminLogin
    administratorPassword: postgresAdminPassword
    subnetId: network.outputs.postgresSubnetId
    privateDnsZoneId: network.outputs.postgresDnsZoneId
  }
}

module appsEnvironment 'modules/environment.bicep' = {
  name: 'environment'
  params: {
    location: location
    name: '${namePrefix}-env'
    subnetId: network.outputs.appsSubnetId
    workspaceName: logs.outputs.name
  }
}

module registryPull 'modules/registryPull.bicep' = if (!empty(registryName)) {
  name: 'registry-pull'
  params: { registryName: registryName, principalId: identity.outputs.principalId }
}

// Built from outputs and the secure parameter: never an output itself, only a secret of each app.
var postgresConnectionString = 'Host=${postgres.outputs.host};Database=${postgres.outputs.databaseName};Username=${postgresAdminLogin};Password=${postgresAdminPassword};SSL Mode=Require'
var registryServer = empty(registryName) ? '' : '${registryName}${environment().suffixes.acrLoginServer}'

module silo 'modules/silo.bicep' = {
  name: 'silo'
  params: {
    location: location
    name: '${namePrefix}-silo'
    environmentId: appsEnvironment.outputs.id
    image: siloImage
    siloCount: siloCount
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    registryServer: registryServer
    postgresConnectionString: postgresConnectionString
    blobEndpoint: storage.outputs.blobEndpoint
    blobContainer: storage.outputs.containerName
    replicationFactor: min(replicationFactor, siloCount)
  }
}

module gateway 'modules/gateway.bicep' = {
  name: 'gateway'
  params: {
    location: location
    name: '${namePrefix}-gateway'
    environmentId: appsEnvironment.outputs.id
    image: gatewayImage
    identityId: identity.outputs.id
    registryServer: registryServer
    postgresConnectionString: postgresConnectionString
  }
  dependsOn: [ silo ]
}

@description('The public HTTPS address of the gateway: where clients send /v1/... requests.')
output gatewayUrl string = gateway.outputs.url

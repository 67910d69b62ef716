// PostgreSQL Flexible Server with private access only (a subnet of the apps' network, no public endpoint), TLS
// required, and the database the silos share: Orleans membership, the chunk catalog, consumer groups.
@description('Azure region.')
param location string

@description('Server name.')
param name string

@description('Administrator login.')
param administratorLogin string

@description('Administrator password.')
@secure()
param administratorPassword string

@description('Subnet delegated to Microsoft.DBforPostgreSQL/flexibleServers.')
param subnetId string

@description('Private DNS zone linked to the network.')
param privateDnsZoneId string

@description('Database the silos use.')
param databaseName string = 'orleansbus'

resource server 'Microsoft.DBforPostgreSQL/flexibleServers@2022-12-01' = {
  name: name
  location: location
  sku: { name: 'Standard_B2s', tier: 'Burstable' }
  properties: {
    version: '15'
    administratorLogin: administratorLogin
    administratorLoginPassword: administratorPassword
    storage: { storageSizeGB: 32 }
    backup: { backupRetentionDays: 7, geoRedundantBackup: 'Disabled' }
    highAvailability: { mode: 'Disabled' }
    network: {
      delegatedSubnetResourceId: subnetId
      privateDnsZoneArmResourceId: privateDnsZoneId
    }
  }
}

resource requireTls 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2022-12-01' = {
  parent: server
  name: 'require_secure_transport'
  properties: { value: 'on', source: 'user-override' }
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2022-12-01' = {
  parent: server
  name: databaseName
  properties: { charset: 'UTF8', collation: 'en_US.utf8' }
}

output host string = server.properties.fullyQualifiedDomainName
output databaseName string = database.name

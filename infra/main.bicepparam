// Parameters for infra/main.bicep. The PostgreSQL password is not here: pass it at deployment time
// (docs/deploy.md: --parameters postgresAdminPassword=...), or read it from Key Vault with getSecret().
using 'main.bicep'

param namePrefix = 'obus'
param siloImage = 'obusregistry.azurecr.io/orleansbus-silo:1'
param gatewayImage = 'obusregistry.azurecr.io/orleansbus-gateway:1'
param registryName = 'obusregistry'
param siloCount = 3
param replicationFactor = 2
param postgresAdminLogin = 'orleansbus'
param postgresAdminPassword = readEnvironmentVariable('OBUS_PG_PASSWORD', '')

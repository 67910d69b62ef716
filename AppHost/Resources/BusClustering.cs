using Aspire.Hosting.Orleans;

namespace OrleansBus.AppHost.Resources;

/// <summary>
/// Orleans' ADO.NET clustering on the local PostgreSQL, in the keys our silo and gateway read. Aspire.Hosting.Orleans'
/// own <c>WithClustering(resource)</c> emits Orleans' provider keys (<c>Orleans:Clustering:ProviderType</c> …), but the
/// silo configures ADO.NET clustering itself — on the same database and schema as its catalog, with the schema as the
/// search path — so the cluster is given the one connection string both parts need. Silos read <c>Bus:*</c>, the gateway
/// (an Orleans client) <c>Gateway:*</c>; each ignores the other's section.
/// </summary>
internal sealed class BusClustering(IResourceBuilder<LocalPostgresResource> postgres) : IProviderConfiguration
{
    public void ConfigureResource<T>(IResourceBuilder<T> resourceBuilder, string configSectionPath) where T : IResourceWithEnvironment
    {
        var connectionString = postgres.Resource.ConnectionStringExpression;
        resourceBuilder
            .WithEnvironment("Bus__Metadata", "postgres")
            .WithEnvironment("Bus__PostgresConnectionString", connectionString)
            .WithEnvironment("Bus__PostgresSchema", "public")
            .WithEnvironment("Gateway__PostgresConnectionString", connectionString)
            .WithEnvironment("Gateway__PostgresSchema", "public");
    }
}

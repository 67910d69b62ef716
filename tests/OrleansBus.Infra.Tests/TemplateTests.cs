using System.Text.Json.Nodes;

namespace OrleansBus.Infra.Tests;

/// <summary>
/// What the deployment must guarantee, checked on the ARM JSON the compiler produces: the apps run as a user-assigned
/// identity that holds Storage Blob Data Contributor on the archive (no keys), no secret leaves through an output, only
/// the gateway is reachable from outside, PostgreSQL has no public endpoint and requires TLS, the silo ports are declared.
/// </summary>
public sealed class TemplateTests
{
    private const string BlobDataContributor = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";

    [Fact]
    public async Task The_apps_use_a_user_assigned_identity_that_holds_blob_data_contributor_and_storage_takes_no_keys()
    {
        var template = await CompiledTemplate.BuildAsync();
        Assert.Single(template.OfType("Microsoft.ManagedIdentity/userAssignedIdentities"));
        // The role id sits in the storage module's variables; the assignment is scoped to the storage account.
        Assert.Contains(template.OfType("Microsoft.Authorization/roleAssignments"),
            r => r.Template["variables"]?.ToJsonString().Contains(BlobDataContributor, StringComparison.Ordinal) == true
                && r.Node["scope"]!.GetValue<string>().Contains("Microsoft.Storage/storageAccounts", StringComparison.Ordinal)
                && r.Node["properties"]!["principalType"]!.GetValue<string>() == "ServicePrincipal");
        var apps = template.OfType("Microsoft.App/containerApps").ToList();
        Assert.Equal(2, apps.Count);
        Assert.All(apps, app => Assert.Equal("UserAssigned", app.Node["identity"]?["type"]?.GetValue<string>()));

        var account = Assert.Single(template.OfType("Microsoft.Storage/storageAccounts")).Properties!;
        Assert.False(account["allowBlobPublicAccess"]!.GetValue<bool>());
        Assert.False(account["allowSharedKeyAccess"]!.GetValue<bool>());
        Assert.Equal("TLS1_2", account["minimumTlsVersion"]!.GetValue<string>());
        var silo = Env(SiloApp(template));
        Assert.Equal("true", silo["Bus__Archive__Blob__UseDefaultCredential"]);
        Assert.DoesNotContain(silo.Keys, k => k.Contains("AccountKey", StringComparison.Ordinal));
    }

    [Fact]
    public async Task No_output_carries_a_secret_and_main_outputs_only_the_gateway_url()
    {
        var template = await CompiledTemplate.BuildAsync();
        var main = template.Outputs.Where(o => o.Template == "main").Select(o => o.Name).ToArray();
        Assert.Equal(["gatewayUrl"], main);
        foreach (var (path, name, output) in template.Outputs)
        {
            var text = output.ToJsonString();
            Assert.False(text.Contains("assword", StringComparison.OrdinalIgnoreCase) || text.Contains("ConnectionString", StringComparison.OrdinalIgnoreCase)
                || output["type"]?.GetValue<string>() is "securestring" or "secureObject",
                $"Output {name} of {path} may carry a secret: {text}");
        }
        // The connection string reaches the apps only as a Container Apps secret, referenced by name.
        foreach (var app in template.OfType("Microsoft.App/containerApps"))
        {
            var env = (JsonArray)app.Properties!["template"]!["containers"]![0]!["env"]!;
            var connection = env.Single(e => e!["name"]!.GetValue<string>().EndsWith("PostgresConnectionString", StringComparison.Ordinal))!;
            Assert.Null(connection["value"]);
            Assert.Equal("postgres-connection-string", connection["secretRef"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Only_the_gateway_is_external_and_the_silo_declares_its_orleans_ports_and_probes()
    {
        var template = await CompiledTemplate.BuildAsync();
        var external = template.OfType("Microsoft.App/containerApps")
            .Where(a => a.Properties!["configuration"]!["ingress"]!["external"]!.GetValue<bool>())
            .Select(a => a.Properties!["template"]!["containers"]![0]!["name"]!.GetValue<string>()).ToArray();
        Assert.Equal(["gateway"], external);

        var silo = SiloApp(template).Properties!;
        var ports = ((JsonArray)silo["configuration"]!["ingress"]!["additionalPortMappings"]!)
            .Select(p => (Port: p!["targetPort"]!.GetValue<int>(), External: p["external"]!.GetValue<bool>())).ToArray();
        Assert.Equal([(11111, false), (30000, false)], ports.OrderBy(p => p.Port));
        var env = Env(SiloApp(template));
        Assert.Equal("11111", env["Orleans__Endpoints__SiloPort"]);
        Assert.Equal("30000", env["Orleans__Endpoints__GatewayPort"]);
        var probes = ((JsonArray)silo["template"]!["containers"]![0]!["probes"]!)
            .ToDictionary(p => p!["type"]!.GetValue<string>(), p => p!["httpGet"]!["path"]!.GetValue<string>());
        Assert.Equal("/health/live", probes["Liveness"]);
        Assert.Equal("/health/ready", probes["Readiness"]);
        Assert.Equal("/data", silo["template"]!["containers"]![0]!["volumeMounts"]![0]!["mountPath"]!.GetValue<string>());
        Assert.Equal("/data", env["Bus__DataDir"]);
    }

    [Fact]
    public async Task Postgres_has_private_access_only_and_requires_tls()
    {
        var template = await CompiledTemplate.BuildAsync();
        var server = Assert.Single(template.OfType("Microsoft.DBforPostgreSQL/flexibleServers")).Properties!;
        Assert.NotNull(server["network"]?["delegatedSubnetResourceId"]);
        Assert.NotNull(server["network"]?["privateDnsZoneArmResourceId"]);
        Assert.Empty(template.OfType("Microsoft.DBforPostgreSQL/flexibleServers/firewallRules"));
        var tls = Assert.Single(template.OfType("Microsoft.DBforPostgreSQL/flexibleServers/configurations"),
            c => c.Node["name"]!.ToJsonString().Contains("require_secure_transport", StringComparison.Ordinal));
        Assert.Equal("on", tls.Properties!["value"]!.GetValue<string>());
        Assert.Contains(template.OfType("Microsoft.App/managedEnvironments"), e => e.Properties!["vnetConfiguration"]?["infrastructureSubnetId"] is not null);
    }

    private static ArmResource SiloApp(CompiledTemplate template) =>
        template.OfType("Microsoft.App/containerApps").Single(a => a.Properties!["template"]!["containers"]![0]!["name"]!.GetValue<string>() == "silo");

    private static Dictionary<string, string> Env(ArmResource app) =>
        ((JsonArray)app.Properties!["template"]!["containers"]![0]!["env"]!)
            .Where(e => e!["value"] is not null)
            .ToDictionary(e => e!["name"]!.GetValue<string>(), e => e!["value"]!.ToString());
}

using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using OrleansBus.Silo.Cluster;
using OrleansBus.Silo.Hosting;

namespace OrleansBus.Silo.Tests.Hosting;

/// <summary><c>auto</c> for the silo id and the advertised addresses, as container replicas use it (infra/).</summary>
public sealed class HostIdentityTests
{
    [Fact]
    public void Auto_silo_id_is_the_host_name_made_valid_and_anything_else_is_kept()
    {
        var id = HostIdentity.SiloId("auto");
        Assert.Matches(new Regex("^[a-z0-9][a-z0-9-]{0,62}$"), id);
        Assert.Equal(HostIdentity.SiloId("AUTO"), id);
        Assert.Equal("silo7", HostIdentity.SiloId("silo7"));
    }

    [Fact]
    public void Auto_advertise_url_takes_the_listen_port_and_this_hosts_address()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new("urls", "http://+:8080")]).Build();
        var address = HostIdentity.FirstAddress();
        Assert.Equal($"http://{address}:8080", Membership.ResolveAddress("auto", configuration));
        // Without auto a wildcard still means loopback, and an explicit URL is kept.
        Assert.Equal("http://127.0.0.1:8080", Membership.ResolveAddress(null, configuration));
        Assert.Equal("http://silo-a:9000", Membership.ResolveAddress("http://silo-a:9000/", configuration));
        // localhost (each Aspire replica's URL) is advertised as 127.0.0.1.
        var local = new ConfigurationBuilder().AddInMemoryCollection([new("urls", "http://localhost:18383")]).Build();
        Assert.Equal("http://127.0.0.1:18383", Membership.ResolveAddress(null, local));
        Assert.Equal(System.Net.Sockets.AddressFamily.InterNetwork, address.AddressFamily);
        Assert.True(IPAddress.IsLoopback(address) || !address.ToString().StartsWith("127.", StringComparison.Ordinal));
    }
}

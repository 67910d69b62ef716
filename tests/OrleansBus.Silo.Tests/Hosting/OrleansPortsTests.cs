using OrleansBus.Silo.Hosting;

namespace OrleansBus.Silo.Tests.Hosting;

public sealed class OrleansPortsTests
{
    [Fact]
    public void The_http_ports_are_read_from_every_url_form()
    {
        Assert.Equal([8080, 9090, 7070], OrleansSetup.HttpPorts("http://127.0.0.1:8080;http://+:9090; http://*:7070/"));
        Assert.Empty(OrleansSetup.HttpPorts(null));
    }

    [Fact]
    public void Free_orleans_ports_are_distinct_and_never_an_http_port_or_a_configured_one()
    {
        for (var round = 0; round < 50; round++)
        {
            // The next ports the kernel would hand out are the likeliest collisions: forbid a few of them.
            var http = Enumerable.Range(0, 3).Select(_ => NextKernelPort()).ToArray();
            var (silo, gateway) = OrleansSetup.OrleansPorts(null, null, http);
            Assert.NotEqual(silo, gateway);
            Assert.DoesNotContain(silo, http);
            Assert.DoesNotContain(gateway, http);
        }
        var (fixedSilo, freeGateway) = OrleansSetup.OrleansPorts("11111", null, []);
        Assert.Equal(11111, fixedSilo);
        Assert.NotEqual(11111, freeGateway);
    }

    private static int NextKernelPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}

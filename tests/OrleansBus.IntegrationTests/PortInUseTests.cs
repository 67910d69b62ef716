using System.Net;
using System.Net.Sockets;
using OrleansBus.Testing;

namespace OrleansBus.IntegrationTests;

/// <summary>A silo or gateway started on a port someone else holds says so in one line and exits 1 (no stack trace, no SIGABRT).</summary>
public sealed class PortInUseTests
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_silo_on_a_taken_port_exits_1_with_one_line_naming_the_address()
    {
        using var data = new TempDirectory("port-in-use");
        await AssertRefusesTakenPortAsync(RepoPaths.SiloDll(), "silo", port => ["--urls", $"http://127.0.0.1:{port}", $"--Bus:DataDir={data.Combine("data")}"]);
    }

    [Fact]
    public async Task A_gateway_on_a_taken_port_exits_1_with_one_line_naming_the_address()
    {
        // A static silo list that points nowhere: the gateway starts (probes fail, that is fine) and then binds.
        await AssertRefusesTakenPortAsync(RepoPaths.GatewayDll(), "gateway", port => ["--urls", $"http://127.0.0.1:{port}", "--Gateway:PostgresConnectionString=Host=127.0.0.1;Port=9"]);
    }

    private static async Task AssertRefusesTakenPortAsync(string dll, string who, Func<int, string[]> args)
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;
        var (exitCode, output, errors) = await ExternalCommand.RunToExitAsync("dotnet", [dll, .. args(port)], ExitTimeout);
        Assert.True(exitCode == 1, $"exit {exitCode}\n{output}\n{errors}");
        Assert.Contains($"orleansbus {who}: Failed to bind to address http://127.0.0.1:{port}: address already in use", errors, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", output + errors, StringComparison.Ordinal);
    }
}

using System.Diagnostics;
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
        await AssertRefusesTakenPortAsync(RepoPaths.GatewayDll(), "gateway", port => ["--urls", $"http://127.0.0.1:{port}", "--Gateway:Silos=http://127.0.0.1:9"]);
    }

    private static async Task AssertRefusesTakenPortAsync(string dll, string who, Func<int, string[]> args)
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        foreach (var a in args(port))
            info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using (var wait = new CancellationTokenSource(ExitTimeout))
        {
            try
            {
                await process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true); // only the process this test started
                Assert.Fail($"the {who} kept running on a taken port for {ExitTimeout.TotalSeconds:F0} s:\n{await stdout}\n{await stderr}");
            }
        }
        var (output, errors) = (await stdout, await stderr);
        Assert.True(process.ExitCode == 1, $"exit {process.ExitCode}\n{output}\n{errors}");
        Assert.Contains($"orleansbus {who}: Failed to bind to address http://127.0.0.1:{port}: address already in use", errors, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", output + errors, StringComparison.Ordinal);
    }
}

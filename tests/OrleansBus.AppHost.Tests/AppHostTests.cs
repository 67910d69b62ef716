using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansBus.Testing;

// Each test starts a whole cluster; two at once would only starve each other on a 2-core machine.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace OrleansBus.AppHost.Tests;

/// <summary>
/// The local cluster as Aspire starts it, without Docker or a developer certificate: PostgreSQL and Azurite as processes,
/// silos as replicas of one project, the gateway as an Orleans client. Used only through the gateway, as a user would.
/// </summary>
public sealed class AppHostTests
{
    private const int Messages = 1000;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan ConsumeTimeout = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan CleanupTimeout = TimeSpan.FromSeconds(30);

    private sealed record Member(string Id, string Address, string State);

    [Fact]
    public async Task Aspire_starts_three_silos_and_the_gateway_and_every_message_produced_through_it_is_consumed_once()
    {
        using var dir = new TempDirectory("apphost");
        var gatewayPort = FreePort.Get();
        using var cts = new CancellationTokenSource(StartTimeout + ConsumeTimeout + StopTimeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.OrleansBus_AppHost>(
            ["--DataDir", dir.Combine("cluster"), "--GatewayPort", $"{gatewayPort}"], cts.Token);
        // The builder copies every resource's console into this process's log: keep warnings and errors only.
        builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        IReadOnlyList<(int Pid, string Command)> started;
        await using (var app = await builder.BuildAsync(cts.Token))
        {
            await app.StartAsync(cts.Token);
            await app.ResourceNotifications.WaitForResourceHealthyAsync("gateway", cts.Token);
            started = ProcessTree.StartedBy(Environment.ProcessId);
            string Diagnostics() => $"Processes the AppHost started:\n{string.Join('\n', started.Select(p => $"{p.Pid} {p.Command}"))}";

            // Orleans' membership, as any silo reports it: the replicas took the names silo1..silo3, all live.
            using var silo = app.CreateHttpClient("silo", "http");
            var members = await silo.GetFromJsonAsync<List<Member>>(new Uri("/cluster/v1/members", UriKind.Relative), cts.Token);
            Assert.Equal(["silo1", "silo2", "silo3"], members!.Where(m => m.State == "live").Select(m => m.Id).Order(StringComparer.Ordinal));

            using var gateway = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{gatewayPort}"), Timeout = TimeSpan.FromSeconds(30) };
            var category = "apphost-" + Guid.NewGuid().ToString("N")[..8];
            await GatewayTraffic.ProduceAsync(gateway, category, Messages, perRequest: 100, Diagnostics);
            var seen = await GatewayTraffic.ConsumeAllAsync(gateway, category, Messages, ConsumeTimeout, Diagnostics);
            GatewayTraffic.AssertExactlyOnce(seen, Messages);

            await app.StopAsync(cts.Token);
        }
        Assert.Contains(started, p => p.Command.Contains("bin/postgres ", StringComparison.Ordinal));
        var survivors = await ProcessTree.SurvivorsAsync(started, CleanupTimeout);
        Assert.True(survivors.Count == 0, $"Still running {CleanupTimeout.TotalSeconds:0} s after the app stopped:\n{string.Join('\n', survivors.Select(p => $"{p.Pid} {p.Command}"))}");
    }

    [Theory]
    [InlineData(AppHostProcess.SigInt)]
    [InlineData(AppHostProcess.SigTerm)]
    public async Task The_AppHost_prints_where_everything_is_and_a_signal_stops_every_process_it_started(int signal)
    {
        using var dir = new TempDirectory("apphost");
        var gatewayPort = FreePort.Get();
        await using var host = AppHostProcess.Start(null, "--DataDir", dir.Combine("cluster"), "--GatewayPort", $"{gatewayPort}", "--Silos", "2");
        await host.WaitForLineAsync("ready", StartTimeout);

        Assert.Equal($"http://127.0.0.1:{gatewayPort}", host.Endpoint("gateway"));
        Assert.StartsWith("http://127.0.0.1:", host.Endpoint("dashboard"), StringComparison.Ordinal);
        Assert.StartsWith("http://", host.Endpoint("silo1"), StringComparison.Ordinal);
        Assert.StartsWith("http://", host.Endpoint("silo2"), StringComparison.Ordinal);
        var started = ProcessTree.StartedBy(host.Pid);
        Assert.Contains(started, p => p.Command.Contains("bin/postgres ", StringComparison.Ordinal));
        Assert.Contains(started, p => p.Command.Contains("azurite-blob", StringComparison.Ordinal));
        Assert.Equal(2, started.Count(p => p.Command.EndsWith("OrleansBus.Silo", StringComparison.Ordinal)));
        Assert.Single(started, p => p.Command.EndsWith("OrleansBus.Gateway", StringComparison.Ordinal));

        using var gateway = new HttpClient { BaseAddress = new Uri(host.Endpoint("gateway")), Timeout = TimeSpan.FromSeconds(30) };
        await GatewayTraffic.ProduceAsync(gateway, "signal-" + signal, 10, perRequest: 10, () => host.Output);

        var exitCode = await host.SignalAndWaitAsync(signal, StopTimeout);
        Assert.True(exitCode == 0, $"The AppHost exited with {exitCode} after signal {signal}. Output:\n{host.Output}");
        var survivors = await ProcessTree.SurvivorsAsync(started, CleanupTimeout);
        Assert.True(survivors.Count == 0,
            $"Still running {CleanupTimeout.TotalSeconds:0} s after the AppHost exited:\n{string.Join('\n', survivors.Select(p => $"{p.Pid} {p.Command}"))}");
    }

    [Theory]
    [InlineData("silos-zero", "--Silos must be a whole number from 1 to 64; got '0'")]
    [InlineData("silos-word", "--Silos must be a whole number from 1 to 64; got 'many'")]
    [InlineData("gateway-port-taken", "(for the gateway) is already in use on 127.0.0.1: stop what holds it or pick another with --GatewayPort")]
    [InlineData("no-postgres", "does not hold initdb and postgres")]
    public async Task A_bad_setting_stops_the_AppHost_with_one_line_and_starts_nothing(string problem, string expected)
    {
        using var dir = new TempDirectory("apphost");
        var data = dir.Combine("cluster");
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        string[] arguments = problem switch
        {
            "silos-zero" => ["--Silos", "0"],
            "silos-word" => ["--Silos", "many"],
            "gateway-port-taken" => ["--GatewayPort", $"{port}"],
            _ => ["--GatewayPort", $"{FreePort.Get()}"],
        };
        var environment = problem == "no-postgres" ? new Dictionary<string, string> { ["OBUS_PG_BIN"] = dir.Combine("no-such-folder") } : null;

        await using var host = AppHostProcess.Start(environment, ["--DataDir", data, .. arguments]);
        var exitCode = await host.WaitForExitAsync(StopTimeout);

        Assert.True(exitCode == 2, $"Exit code {exitCode} instead of 2. Output:\n{host.Output}");
        var errors = host.Output.Split('\n').Where(line => line.StartsWith("[stderr] ", StringComparison.Ordinal)).ToList();
        Assert.True(errors.Count == 1 && errors[0].StartsWith("[stderr] apphost: ", StringComparison.Ordinal) && errors[0].Contains(expected, StringComparison.Ordinal),
            $"Expected one error line naming the problem ('{expected}'). Output:\n{host.Output}");
        Assert.False(Directory.Exists(data), $"{data} was created: the AppHost started something before refusing.");
    }
}

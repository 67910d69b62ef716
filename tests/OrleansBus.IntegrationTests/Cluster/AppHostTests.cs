using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using OrleansBus.Contracts;
using OrleansBus.Testing;

namespace OrleansBus.IntegrationTests.Cluster;

/// <summary>
/// The local cluster exactly as a developer starts it: the AppHost as a process (PostgreSQL, Azurite,
/// three silos, the gateway), used only through the gateway, then stopped with SIGINT like Ctrl+C.
/// </summary>
public sealed partial class AppHostTests
{
    private const int Silos = 3;
    private const int Messages = 1000;
    private const int MessagesPerRequest = 100;
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan ConsumeTimeout = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AppHost_cluster_delivers_every_message_once_through_the_gateway_and_Ctrl_C_stops_every_process()
    {
        using var dir = new TempDirectory("apphost");
        var siloPort = ConsecutiveFreePorts(Silos);
        var gatewayPort = FreePortOutside(siloPort, Silos);
        var postgresPort = FreePortOutside(siloPort, Silos);
        var azuritePort = FreePortOutside(siloPort, Silos);
        await using var appHost = AppHostProcess.Start(
            "--silos", $"{Silos}", "--gateway-port", $"{gatewayPort}", "--silo-port", $"{siloPort}",
            "--postgres-port", $"{postgresPort}", "--azurite-port", $"{azuritePort}", "--data", dir.Combine("cluster"));

        var endpoints = await appHost.WaitForReadyAsync(ReadyTimeout);
        Assert.Equal(["postgres", "azurite", "silo1", "silo2", "silo3", "gateway"], endpoints.Keys);
        var gateway = $"http://127.0.0.1:{gatewayPort}";
        Assert.Contains($"gateway {gateway} ", appHost.Output, StringComparison.Ordinal);

        using var http = new HttpClient { BaseAddress = new Uri(gateway), Timeout = TimeSpan.FromSeconds(30) };
        var category = "apphost-" + Guid.NewGuid().ToString("N")[..8];
        for (var first = 0; first < Messages; first += MessagesPerRequest)
        {
            var body = new StringBuilder();
            for (var n = first; n < first + MessagesPerRequest; n++)
            {
                body.Append(CultureInfo.InvariantCulture, $"m-{n:0000}\n");
            }
            using var produced = await http.PostAsync(new Uri($"/v1/categories/{category}/messages", UriKind.Relative), new StringContent(body.ToString()));
            await ExpectAsync(produced, HttpStatusCode.OK, $"produce m-{first:0000}.. through the gateway", appHost);
        }

        var seen = await ConsumeAllAsync(http, category, appHost);

        var duplicates = seen.Where(pair => pair.Value > 1).Select(pair => $"{pair.Key} x{pair.Value}").ToList();
        var missing = Enumerable.Range(0, Messages).Select(n => $"m-{n:0000}").Where(m => !seen.ContainsKey(m)).ToList();
        Assert.True(duplicates.Count == 0 && missing.Count == 0 && seen.Count == Messages,
            $"Not every message exactly once: {duplicates.Count} duplicated ({string.Join(", ", duplicates.Take(10))}), " +
            $"{missing.Count} missing ({string.Join(", ", missing.Take(10))}), {seen.Count} distinct.");

        var exitCode = await appHost.InterruptAsync(ExitTimeout);
        Assert.True(exitCode == 0, $"The AppHost exited with {exitCode} after SIGINT instead of 0. Output:\n{appHost.Output}");
        var alive = endpoints.Where(pair => IsAlive(pair.Value)).Select(pair => $"{pair.Key} (pid {pair.Value})").ToList();
        Assert.True(alive.Count == 0, $"Still running after the AppHost exited: {string.Join(", ", alive)}. Output:\n{appHost.Output}");
    }

    /// <summary>One consumer of group <c>g</c> through the gateway, acknowledging each delivery, until all messages came and a poll finds nothing more.</summary>
    private static async Task<Dictionary<string, int>> ConsumeAllAsync(HttpClient http, string category, AppHostProcess appHost)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var deliveries = 0;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Assert.True(clock.Elapsed < ConsumeTimeout,
                $"After {ConsumeTimeout.TotalSeconds:0} s the group had delivered {seen.Count} of {Messages} messages in {deliveries} deliveries. Output:\n{appHost.Output}");
            using var request = new HttpRequestMessage(HttpMethod.Post,
                new Uri($"/v1/categories/{category}/groups/g/poll?max_messages=250&wait_ms=500", UriKind.Relative));
            request.Headers.Accept.ParseAdd("application/json");
            using var response = await http.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.NoContent)
            {
                if (seen.Count >= Messages)
                {
                    return seen; // everything came, and nothing is left (no redelivery pending)
                }
                continue;
            }
            await ExpectAsync(response, HttpStatusCode.OK, "poll group g through the gateway", appHost);
            var polled = (await response.Content.ReadFromJsonAsync<PollResult>())!;
            deliveries++;
            foreach (var message in polled.Messages)
            {
                seen[message] = seen.GetValueOrDefault(message) + 1;
            }
            using var ack = await http.PostAsJsonAsync(new Uri($"/v1/categories/{category}/groups/g/ack", UriKind.Relative), new AckRequest(polled.Delivery));
            await ExpectAsync(ack, HttpStatusCode.NoContent, $"ack of {polled.Chunk} [{polled.Offset},{polled.NextOffset}) through the gateway", appHost);
        }
    }

    private static async Task ExpectAsync(HttpResponseMessage response, HttpStatusCode expected, string what, AppHostProcess appHost)
    {
        if (response.StatusCode == expected)
        {
            return;
        }
        var body = await response.Content.ReadAsStringAsync();
        throw new Xunit.Sdk.XunitException(
            $"{what} answered {(int)response.StatusCode} instead of {(int)expected}: {body}\nLogs: {appHost.LogsDir}. AppHost output:\n{appHost.Output}");
    }

    /// <summary>A base port whose next <paramref name="count"/> - 1 ports are free too (silo i gets base + i - 1).</summary>
    private static int ConsecutiveFreePorts(int count)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var first = FreePort.Get();
            if (first + count - 1 <= 65535 && Enumerable.Range(first + 1, count - 1).All(FreePort.IsFree))
            {
                return first;
            }
        }
        throw new InvalidOperationException($"Found no {count} consecutive free loopback ports in 50 tries.");
    }

    private static int FreePortOutside(int first, int count)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var port = FreePort.Get();
            if (port < first || port >= first + count)
            {
                return port;
            }
        }
        throw new InvalidOperationException("FreePort kept returning a silo port.");
    }

    /// <summary>Running and not a zombie (the postmaster is reparented to an init that may never reap it).</summary>
    private static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            return close > 0 && close + 2 < stat.Length && stat[close + 2] != 'Z';
        }
        catch (IOException)
        {
            return false; // no such process
        }
    }

    /// <summary>The AppHost as a child process; its console output is kept for assertions and failure messages.</summary>
    private sealed partial class AppHostProcess : IAsyncDisposable
    {
        private const int SigInt = 2;
        private readonly Process _process;
        private readonly StringBuilder _output = new();
        private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private AppHostProcess(Process process, string logsDir)
        {
            _process = process;
            LogsDir = logsDir;
        }

        public string LogsDir { get; }

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        public static AppHostProcess Start(params string[] arguments)
        {
            var startInfo = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            startInfo.ArgumentList.Add(RepoPaths.AppHostDll());
            foreach (var argument in arguments)
            {
                startInfo.ArgumentList.Add(argument);
            }
            foreach (var name in new[] { "OBUS_PG_BIN", "OBUS_AZURITE" })
            {
                if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } value)
                {
                    startInfo.Environment[name] = value;
                }
            }
            var dataIndex = Array.IndexOf(arguments, "--data");
            var host = new AppHostProcess(new Process { StartInfo = startInfo }, Path.Combine(arguments[dataIndex + 1], "logs"));
            host._process.OutputDataReceived += (_, e) => host.Append(e.Data, "");
            host._process.ErrorDataReceived += (_, e) => host.Append(e.Data, "[stderr] ");
            host._process.Start();
            host._process.StandardInput.Close();
            host._process.BeginOutputReadLine();
            host._process.BeginErrorReadLine();
            return host;
        }

        /// <summary>Waits for the <c>ready</c> line; returns each printed component with its PID, in print order.</summary>
        public async Task<OrderedDictionary<string, int>> WaitForReadyAsync(TimeSpan timeout)
        {
            var exited = _process.WaitForExitAsync();
            var first = await Task.WhenAny(_ready.Task, exited, Task.Delay(timeout));
            if (first != _ready.Task)
            {
                var why = first == exited ? $"exited with code {_process.ExitCode}" : $"printed no ready line within {timeout.TotalMinutes:0} min";
                throw new Xunit.Sdk.XunitException($"The AppHost {why}. Logs: {LogsDir}. Output:\n{Output}");
            }
            var endpoints = new OrderedDictionary<string, int>();
            foreach (Match match in EndpointLine().Matches(Output))
            {
                endpoints[match.Groups["name"].Value] = int.Parse(match.Groups["pid"].Value, CultureInfo.InvariantCulture);
            }
            return endpoints;
        }

        /// <summary>SIGINT, as Ctrl+C sends; returns the exit code.</summary>
        public async Task<int> InterruptAsync(TimeSpan timeout)
        {
            Assert.True(Kill(_process.Id, SigInt) == 0, $"Could not send SIGINT to the AppHost (pid {_process.Id}).");
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new Xunit.Sdk.XunitException($"The AppHost did not exit within {timeout.TotalSeconds:0} s of SIGINT. Output:\n{Output}");
            }
            return _process.ExitCode;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                // A failed test: let the AppHost stop its cluster as on Ctrl+C, and only then force it.
                using var cts = new CancellationTokenSource(ExitTimeout);
                try
                {
                    if (Kill(_process.Id, SigInt) == 0)
                    {
                        await _process.WaitForExitAsync(cts.Token);
                    }
                }
                catch (OperationCanceledException)
                {
                }
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync(CancellationToken.None);
                }
            }
            _process.Dispose();
        }

        private void Append(string? line, string prefix)
        {
            if (line is null)
            {
                return;
            }
            lock (_output)
            {
                _output.Append(prefix).AppendLine(line);
            }
            if (line.StartsWith("ready:", StringComparison.Ordinal))
            {
                _ready.TrySetResult();
            }
        }

        // "silo1 http://127.0.0.1:8081 (pid 125)"
        [GeneratedRegex(@"^(?<name>[a-z0-9]+) \S+ \(pid (?<pid>\d+)\)$", RegexOptions.Multiline)]
        private static partial Regex EndpointLine();

        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        private static extern int Kill(int pid, int signal);
    }
}

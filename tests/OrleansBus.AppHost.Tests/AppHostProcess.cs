using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using OrleansBus.Testing;

namespace OrleansBus.AppHost.Tests;

/// <summary>
/// The built AppHost run as a developer runs it (<c>dotnet run --project AppHost</c> is this DLL plus the launch profile's
/// environment): dashboard on free loopback ports, its console kept for assertions and failure messages.
/// </summary>
internal sealed partial class AppHostProcess : IAsyncDisposable
{
    public const int SigInt = 2;
    public const int SigTerm = 15;
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private AppHostProcess(Process process) => _process = process;

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    public static AppHostProcess Start(IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(RepoPaths.AppHostDll());
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        // What AppHost/Properties/launchSettings.json gives `dotnet run`, on free ports.
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{FreePort.Get()}";
        start.Environment["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = $"http://127.0.0.1:{FreePort.Get()}";
        start.Environment["ASPIRE_ALLOW_UNSECURED_TRANSPORT"] = "true";
        start.Environment["ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS"] = "true";
        start.Environment["DOTNET_ENVIRONMENT"] = "Development";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        var host = new AppHostProcess(new Process { StartInfo = start });
        host._process.OutputDataReceived += (_, e) => host.Append(e.Data, "");
        host._process.ErrorDataReceived += (_, e) => host.Append(e.Data, "[stderr] ");
        host._process.Start();
        host._process.StandardInput.Close();
        host._process.BeginOutputReadLine();
        host._process.BeginErrorReadLine();
        return host;
    }

    /// <summary>Waits until a line starts with <paramref name="prefix"/>; fails with the output if the AppHost exits first.</summary>
    public async Task WaitForLineAsync(string prefix, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Output.Split('\n').Any(line => line.StartsWith(prefix, StringComparison.Ordinal)))
        {
            if (_process.HasExited)
                throw new Xunit.Sdk.XunitException($"The AppHost exited with {_process.ExitCode} before printing '{prefix}'. Output:\n{Output}");
            if (DateTime.UtcNow > deadline)
                throw new Xunit.Sdk.XunitException($"The AppHost printed no '{prefix}' line within {timeout.TotalSeconds:0} s. Output:\n{Output}");
            await Task.Delay(200);
        }
    }

    /// <summary>The second word of the first line starting with <paramref name="name"/> + space (<c>gateway http://…</c>).</summary>
    public string Endpoint(string name) =>
        Output.Split('\n').Where(line => line.StartsWith(name + " ", StringComparison.Ordinal)).Select(line => line.Split(' ')[1]).FirstOrDefault()
        ?? throw new Xunit.Sdk.XunitException($"No '{name} <url>' line in the AppHost's output:\n{Output}");

    /// <summary>Sends <paramref name="signal"/> and waits for the exit; returns the exit code.</summary>
    public async Task<int> SignalAndWaitAsync(int signal, TimeSpan timeout)
    {
        Assert.True(Kill(_process.Id, signal) == 0, $"Could not signal the AppHost (pid {_process.Id}).");
        return await WaitForExitAsync(timeout);
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"The AppHost did not exit within {timeout.TotalSeconds:0} s. Output:\n{Output}");
        }
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // A failed test: let the AppHost stop its cluster as on Ctrl+C, and only then force it.
            _ = Kill(_process.Id, SigInt);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        _process.Dispose();
    }

    private void Append(string? line, string prefix)
    {
        if (line is null)
            return;
        lock (_output)
            _output.Append(CultureInfo.InvariantCulture, $"{prefix}{line}\n");
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}

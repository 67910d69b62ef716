using System.Diagnostics;
using System.Text;
using OrleansBus.Testing;

namespace OrleansBus.IntegrationTests.Cli;

/// <summary>What one run of obus did.</summary>
internal sealed record ObusResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>
/// Runs the built CLI as a user would, <c>dotnet &lt;repo&gt;/Cli/bin/&lt;configuration&gt;/net10.0/obus.dll</c>, as a
/// separate process: directly, or through <c>bash -c</c> to use real shell redirections. Kills only the process it
/// started, and only when it overruns its bounded wait.
/// </summary>
internal static class Obus
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    public static string Dll
    {
        get
        {
            var path = Path.Combine(RepoPaths.Root, "Cli", "bin", RepoPaths.BuildConfiguration, "net10.0", "obus.dll");
            if (!File.Exists(path))
                throw new FileNotFoundException($"The CLI is not built: {path} is missing. Build it first: dotnet build Cli -c {RepoPaths.BuildConfiguration}", path);
            return path;
        }
    }

    /// <summary>Runs <c>obus args…</c> with <paramref name="stdin"/> (empty when null) and <c>OBUS_SERVER</c> as given (removed when null).</summary>
    public static Task<ObusResult> RunAsync(string? server, string? stdin, params string[] args)
    {
        var startInfo = new ProcessStartInfo("dotnet") { WorkingDirectory = Path.GetTempPath() };
        startInfo.ArgumentList.Add(Dll);
        foreach (var argument in args)
            startInfo.ArgumentList.Add(argument);
        return RunAsync(startInfo, server, stdin);
    }

    /// <summary>Runs a bash command line in which <c>obus</c> is a function calling the built CLI.</summary>
    public static Task<ObusResult> ShellAsync(string workingDirectory, string server, string commandLine)
    {
        var startInfo = new ProcessStartInfo("bash") { WorkingDirectory = workingDirectory };
        startInfo.ArgumentList.Add("-c");
        startInfo.ArgumentList.Add($"set -e; obus() {{ dotnet '{Dll}' \"$@\"; }}; {commandLine}");
        return RunAsync(startInfo, server, stdin: null);
    }

    private static async Task<ObusResult> RunAsync(ProcessStartInfo startInfo, string? server, string? stdin)
    {
        startInfo.RedirectStandardInput = true;
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        startInfo.UseShellExecute = false;
        if (server is null)
            startInfo.Environment.Remove("OBUS_SERVER");
        else
            startInfo.Environment["OBUS_SERVER"] = server;
        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("Could not start " + startInfo.FileName);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
            await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{startInfo.FileName} {string.Join(' ', startInfo.ArgumentList)} did not exit within {Timeout.TotalMinutes:0} min.\nstderr so far:\n{await stderr}");
        }
        return new ObusResult(process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>Test input that looks like real text: words, numbers, punctuation, UTF-8, tabs, empty lines, carriage returns.</summary>
internal static class LinesFile
{
    private static readonly string[] Words = ["alpha", "Ärger", "naïve", "日本語", "emoji🙂", "tab\tseparated", "{\"json\":true}", "", "trailing space ", "crlf\r"];

    public static byte[] Create(int lines)
    {
        var text = new StringBuilder(lines * 32);
        for (var n = 0; n < lines; n++)
        {
            if (n % 1000 == 999)
            {
                text.Append('\n'); // an empty message
                continue;
            }
            text.Append("line ").Append(n.ToString("D6", System.Globalization.CultureInfo.InvariantCulture)).Append(' ').Append(Words[n % Words.Length]).Append('\n');
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }
}

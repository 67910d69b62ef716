using System.Diagnostics;
using System.Text;

namespace OrleansBus.AppHost.Processes;

/// <summary>Runs a short-lived tool (initdb, pg_ctl, chown, npm) to completion; a failure carries its output.</summary>
internal static class ExternalTool
{
    /// <remarks>
    /// Runs in <c>/</c>: the tools may run as another OS user (postgres) who cannot enter the launcher's
    /// current directory, and every path handed to them is absolute.
    /// </remarks>
    public static async Task<string> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = "/",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true, // closed below: nothing may wait for a terminal
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        var commandLine = $"{fileName} {string.Join(' ', startInfo.ArgumentList)}";
        var output = new StringBuilder();
        using var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new StartupException($"Cannot run {commandLine}: {ex.Message}");
        }
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            await process.WaitForExitAsync(CancellationToken.None);
            cancellationToken.ThrowIfCancellationRequested();
            throw new StartupException($"{commandLine} did not finish within {timeout.TotalSeconds:0} s. Output:\n{Text(output)}");
        }
        if (process.ExitCode != 0)
        {
            throw new StartupException($"{commandLine} exited with code {process.ExitCode}. Output:\n{Text(output)}");
        }
        return Text(output);
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }
}

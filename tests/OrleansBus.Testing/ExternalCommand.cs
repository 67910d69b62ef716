using System.Diagnostics;
using System.Text;

namespace OrleansBus.Testing;

/// <summary>What a finished command printed, and how it exited.</summary>
public sealed record CommandResult(int ExitCode, string Output, string Errors);

/// <summary>Runs a short-lived program (initdb, pg_ctl, chown, a dotnet app under test) to completion.</summary>
public static class ExternalCommand
{
    /// <summary>Runs to completion and fails, with everything it printed, unless it exits 0; returns that output.</summary>
    public static async Task<string> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var result = await RunToExitAsync(fileName, arguments, timeout, cancellationToken);
        var printed = result.Output + result.Errors;
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"{CommandLine(fileName, arguments)} exited with code {result.ExitCode}. Output:\n{printed}");
        return printed;
    }

    /// <summary>
    /// Runs to completion whatever the exit code; stdin is closed (nothing may wait for a terminal: CI has none).
    /// Past <paramref name="timeout"/> the process and its children are killed and a TimeoutException carries what
    /// they printed.
    /// </summary>
    public static async Task<CommandResult> RunToExitAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            startInfo.ArgumentList.Add(argument);
        var commandLine = CommandLine(fileName, startInfo.ArgumentList);

        var (output, errors) = (new StringBuilder(), new StringBuilder());
        using var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(errors, e.Data);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"Cannot run {commandLine}: {ex.Message}", ex);
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
            process.Kill(entireProcessTree: true); // only what this call started, and its children
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"{commandLine} did not finish within {timeout.TotalSeconds:0} s. Output:\n{Text(output)}{Text(errors)}");
        }
        return new CommandResult(process.ExitCode, Text(output), Text(errors));
    }

    private static string CommandLine(string fileName, IEnumerable<string> arguments) => $"{fileName} {string.Join(' ', arguments)}";

    private static void Append(StringBuilder text, string? line)
    {
        if (line is null)
            return;
        lock (text)
            text.AppendLine(line);
    }

    private static string Text(StringBuilder text)
    {
        lock (text)
            return text.ToString();
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using OrleansBus.AppHost.Processes;

namespace OrleansBus.AppHost.Components;

/// <summary>Waits until a child serves, failing with the tail of its log when it exits or never gets there.</summary>
internal static class Readiness
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Until <c>GET <paramref name="baseUrl"/>/health/ready</c> answers 200.</summary>
    public static async Task WaitForHealthAsync(ChildProcess child, string baseUrl, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var url = new Uri($"{baseUrl}/health/ready");
        await WaitAsync(child, $"answer 200 on {url}", timeout, async () =>
        {
            try
            {
                using var response = await http.GetAsync(url, cancellationToken);
                return response.StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false; // not listening yet
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return false; // listening but slow; the overall timeout bounds us
            }
        }, cancellationToken);
    }

    /// <summary>Until 127.0.0.1:<paramref name="port"/> accepts a TCP connection.</summary>
    public static Task WaitForPortAsync(ChildProcess child, int port, TimeSpan timeout, CancellationToken cancellationToken) =>
        WaitAsync(child, $"accept connections on 127.0.0.1:{port}", timeout, async () =>
        {
            using var client = new TcpClient();
            try
            {
                await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }, cancellationToken);

    private static async Task WaitAsync(ChildProcess child, string what, TimeSpan timeout, Func<Task<bool>> isReady, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (child.HasExited)
            {
                await child.Exited; // drains its output into the log
                throw new StartupException(
                    $"{child.Name} exited with code {child.ExitCode} before it would {what}. Log {child.LogPath}, last lines:\n{child.LogTail()}");
            }
            if (await isReady())
            {
                return;
            }
            if (clock.Elapsed > timeout)
            {
                throw new StartupException(
                    $"{child.Name} (pid {child.Pid}) did not {what} within {timeout.TotalSeconds:0} s. Log {child.LogPath}, last lines:\n{child.LogTail()}");
            }
            await Task.Delay(PollInterval, cancellationToken);
        }
    }
}

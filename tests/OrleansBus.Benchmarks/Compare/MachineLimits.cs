using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace OrleansBus.Benchmarks.Compare;

/// <summary>The machine's own ceilings, measured in the same run, in MiB/s (0 when a measurement could not run).</summary>
internal sealed record MachineLimitsResult(double DdFdatasyncMiBps, double DdPageCacheMiBps, double MemcpyMiBps, double LoopbackTcpMiBps, int DdMiB);

/// <summary>
/// What bounds the workloads on this machine: <c>dd ... conv=fdatasync</c> to the temp directory (the disk, where
/// every data directory of this run lives), the same dd without fdatasync into a new file (fresh page-cache pages,
/// which on these VMs costs far more than reused memory), an in-process copy of warm memory, and one TCP stream over
/// 127.0.0.1 between two threads (1 MiB writes).
/// </summary>
internal static partial class MachineLimits
{
    public static MachineLimitsResult Measure(int mib)
    {
        var dir = Directory.CreateTempSubdirectory("orleansbus-compare-dd-").FullName;
        try
        {
            var sync = Dd(Path.Combine(dir, "sync"), mib, "conv=fdatasync");
            var cache = Dd(Path.Combine(dir, "cache"), mib, null);
            return new MachineLimitsResult(sync, cache, Memcpy(mib), Loopback(mib), mib);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // dd's own summary: "536870912 bytes (537 MB, 512 MiB) copied, 0.38 s, 1.4 GB/s".
    [GeneratedRegex(@"^(\d+) bytes .* copied, ([0-9.,e-]+) s", RegexOptions.Multiline)]
    private static partial Regex DdSummary();

    private static double Dd(string file, int mib, string? conv)
    {
        var info = new ProcessStartInfo("dd") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in (string[])["if=/dev/zero", $"of={file}", "bs=1M", $"count={mib}"])
            info.ArgumentList.Add(a);
        if (conv is not null)
            info.ArgumentList.Add(conv);
        using var dd = Process.Start(info)!;
        var output = dd.StandardError.ReadToEnd();
        dd.WaitForExit();
        var match = DdSummary().Match(output);
        if (dd.ExitCode != 0 || !match.Success)
        {
            Console.Error.WriteLine($"dd {conv} failed: {output.Trim()}");
            return 0;
        }
        var seconds = double.Parse(match.Groups[2].Value.Replace(',', '.'), CultureInfo.InvariantCulture);
        File.Delete(file);
        return seconds > 0 ? long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) / (double)BenchOptions.MiB / seconds : 0;
    }

    private static double Memcpy(int mib)
    {
        var (from, to) = (new byte[64 * BenchOptions.MiB], new byte[64 * BenchOptions.MiB]);
        Array.Fill(from, (byte)1);
        Array.Fill(to, (byte)2); // touched once: this measures copies between warm pages, not first-touch cost
        var rounds = Math.Max(4, mib / 64);
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < rounds; i++)
            from.AsSpan().CopyTo(to);
        return rounds * 64 / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    private static double Loopback(int mib)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var total = (long)mib * BenchOptions.MiB;
        var writer = new Thread(() =>
        {
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            client.Connect(IPAddress.Loopback, port);
            var chunk = new byte[BenchOptions.MiB];
            for (var sent = 0L; sent < total;)
                sent += client.Send(chunk, 0, (int)Math.Min(chunk.Length, total - sent), SocketFlags.None);
        }) { IsBackground = true };
        writer.Start();
        using var server = listener.AcceptSocket();
        var buffer = new byte[BenchOptions.MiB];
        var started = Stopwatch.GetTimestamp();
        for (var received = 0L; received < total;)
        {
            var n = server.Receive(buffer);
            if (n == 0)
                break;
            received += n;
        }
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        writer.Join();
        return mib / seconds;
    }
}

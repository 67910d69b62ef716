using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace OrleansBus.Benchmarks.Compare;

/// <summary>
/// The machine's own ceilings, measured in the same run (MiB/s; 0 when a measurement could not run). The dd
/// figures each write <see cref="DdMiB"/> MiB with bs=1M to the temp directory, where every data directory of the run
/// lives. <see cref="AppendFdatasyncMs"/>: latency of one 1 KiB append + fdatasync, over
/// <see cref="AppendFdatasyncCount"/> appends.
/// </summary>
internal sealed record MachineLimitsResult(int DdMiB, double DdNewPagesMiBps, double DdCachedPagesMiBps, double DdFdatasyncNewFileMiBps,
    LatencySummary AppendFdatasyncMs, int AppendFdatasyncCount, double MemcpyWarmMiBps, double LoopbackTcpMiBps);

/// <summary>
/// What bounds the workloads on this machine. On these VMs the first write to a page-cache page is what costs
/// (a host-side fault per new page: ~250 MiB/s, against several GiB/s over pages already cached, or over pages just
/// freed by a deleted file), and a growing log always writes new pages. So the order matters and is fixed:
/// dd into a new file, kept (page cache, new pages); dd conv=notrunc over it (page cache, cached pages); then
/// dd conv=fdatasync into a second new file while the first is still kept, so it too writes new pages, like a
/// log; then both go, and a fresh file times 1 KiB appends each followed by fdatasync (the floor under any
/// per-request fsync). Then an in-process copy of warm memory and one TCP stream over 127.0.0.1 (1 MiB writes).
/// </summary>
internal static partial class MachineLimits
{
    private static readonly TimeSpan AppendFdatasyncCap = TimeSpan.FromSeconds(10);

    public static MachineLimitsResult Measure(int mib, int appends)
    {
        var dir = Directory.CreateTempSubdirectory("orleansbus-compare-dd-").FullName;
        try
        {
            var (kept, synced) = (Path.Combine(dir, "kept"), Path.Combine(dir, "synced"));
            var newPages = Dd(kept, mib, null);
            var cachedPages = Dd(kept, mib, "conv=notrunc");
            // The two runs above leave the kept file dirty: sync it untimed, or its writeback could share the
            // disk with the fdatasync dd (on a machine whose dirty limits are lower than here).
            Settle(kept);
            var fdatasync = Dd(synced, mib, "conv=fdatasync");
            File.Delete(kept);
            File.Delete(synced);
            var (latency, count) = AppendFdatasync.Measure(Path.Combine(dir, "appends"), appends, AppendFdatasyncCap);
            return new MachineLimitsResult(mib, newPages, cachedPages, fdatasync, latency, count, Memcpy(mib), Loopback(mib));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void Settle(string file)
    {
        try
        {
            using var handle = File.OpenHandle(file, FileMode.Open, FileAccess.ReadWrite);
            AppendFdatasync.DataSync(handle);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"could not sync {file} before the fdatasync dd: {e.Message}");
        }
    }

    /// <summary>The one-line summary printed as the <c>machine</c> line.</summary>
    public static string Describe(MachineLimitsResult m) => string.Create(CultureInfo.InvariantCulture,
        $"dd {m.DdMiB} MiB bs=1M: page cache, new pages {m.DdNewPagesMiBps:F0} MiB/s; page cache, cached pages (conv=notrunc) {m.DdCachedPagesMiBps:F0} MiB/s; " +
        $"disk, conv=fdatasync into a new file {m.DdFdatasyncNewFileMiBps:F0} MiB/s; " +
        $"fdatasync after a 1 KiB append ({m.AppendFdatasyncCount}×) p50 {m.AppendFdatasyncMs.P50:F2} p99 {m.AppendFdatasyncMs.P99:F2} p999 {m.AppendFdatasyncMs.P999:F2} ms; " +
        $"memcpy (warm) {m.MemcpyWarmMiBps:F0} MiB/s; loopback TCP {m.LoopbackTcpMiBps:F0} MiB/s");

    // dd's own summary: "536870912 bytes (537 MB, 512 MiB) copied, 0.38 s, 1.4 GB/s".
    [GeneratedRegex(@"^(\d+) bytes .* copied, ([0-9.,e-]+) s", RegexOptions.Multiline)]
    private static partial Regex DdSummary();

    /// <summary>dd if=/dev/zero of=<paramref name="file"/> bs=1M count=<paramref name="mib"/> [conv]; leaves the file.</summary>
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

using System.Text.Json;
using OrleansBus.Testing;

namespace OrleansBus.IntegrationTests.Benchmarks;

/// <summary>
/// The comparison benchmark (<c>OrleansBus.Benchmarks compare</c>) still runs end to end: our silo only (Redis and
/// NATS are not test dependencies; tests/bench-compare.sh installs them for real runs), tiny sizes. It asserts that
/// every workload ran, the table and JSON have our figures and every machine limit (the dd runs, the 1 KiB append +
/// fdatasync latency), and the targets quote them; never how fast anything is. Twice: with the hand-written HTTP/1.1
/// producers and no warm-up, and with HttpClient producers after a short warm-up (both warm-up parts run).
/// </summary>
public sealed class CompareSmokeTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Compare_tiny_on_our_silo_prints_a_table_with_every_workload(bool httpClientAfterWarmup)
    {
        string[] extra = httpClientAfterWarmup ? ["--http-client", "--warmup-mib", "1"] : [];
        var dll = Path.Combine(RepoPaths.Root, "tests", "OrleansBus.Benchmarks", "bin", RepoPaths.BuildConfiguration, "net10.0", "OrleansBus.Benchmarks.dll");
        Assert.True(File.Exists(dll), $"The benchmark is not built: {dll} is missing. Build it first: dotnet build OrleansBus.sln -c {RepoPaths.BuildConfiguration}");
        RepoPaths.SiloDll(); // throws with a build hint when the silo is missing
        var json = Path.Combine(Path.GetTempPath(), $"compare-smoke-{Guid.NewGuid():N}.json");
        var (exitCode, output, errors) = await ExternalCommand.RunToExitAsync("dotnet", [dll, "compare", "--only", "orleansbus", "--tiny", "--json", json, .. extra], Timeout);
        try
        {
            Assert.True(exitCode == 0, $"exit {exitCode}\n{output}\n{errors}");
            foreach (var row in (string[])["(a) produce", "(b1) produce 1 KiB, fsync", "(b2) produce 1 KiB, fsync", "(c) produce latency", "(d) end to end",
                "raw read (OrleansBus only), 1 MiB reads, 1 conn", "raw read (OrleansBus only), 1 MiB reads, 4 conn", "× raw read 1 conn", "× raw read 4 conn",
                "(e) consume + ack, 1 consumer", "(e) consume + ack, 4 consumers", "machine fdatasync p99", "machine: dd into new page-cache pages"])
                Assert.Contains(row, output, StringComparison.Ordinal);
            Assert.Contains("compare: OK", output, StringComparison.Ordinal);
            if (httpClientAfterWarmup)
                Assert.Contains("warmup     3 s of 1 KiB fsync produce, one message per request (untimed)\n", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
            using var report = JsonDocument.Parse(await File.ReadAllBytesAsync(json));
            var rows = report.RootElement.GetProperty("rows");
            Assert.True(rows.GetArrayLength() >= 22, $"only {rows.GetArrayLength()} rows:\n{output}");
            foreach (var row in rows.EnumerateArray())
                Assert.True(row.GetProperty("orleansBus").ValueKind == JsonValueKind.Number, $"no OrleansBus figure in {row}");
            Assert.Contains(rows.EnumerateArray(), r => r.GetProperty("workload").GetString()!.StartsWith("(b2)", StringComparison.Ordinal)
                && r.GetProperty("target").GetString()!.Contains("dd conv=fdatasync", StringComparison.Ordinal));
            Assert.Contains(rows.EnumerateArray(), r => r.GetProperty("note").GetString()?.StartsWith("machine fdatasync p99", StringComparison.Ordinal) == true);
            var limits = report.RootElement.GetProperty("limits");
            foreach (var field in (string[])["ddNewPagesMiBps", "ddCachedPagesMiBps", "ddFdatasyncNewFileMiBps", "memcpyWarmMiBps", "loopbackTcpMiBps"])
                Assert.True(limits.GetProperty(field).GetDouble() > 0, $"{field} was not measured: {limits}");
            Assert.True(limits.GetProperty("appendFdatasyncCount").GetInt32() > 0, $"no 1 KiB append + fdatasync was timed: {limits}");
            Assert.True(limits.GetProperty("appendFdatasyncMs").GetProperty("p99").GetDouble() > 0, $"no fdatasync latency: {limits}");
        }
        finally
        {
            File.Delete(json);
        }
    }
}

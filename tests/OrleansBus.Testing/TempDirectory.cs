namespace OrleansBus.Testing;

/// <summary>
/// A fresh folder under <c>$TMPDIR/obus-tests/</c>, deleted (best effort) on dispose — kept when the environment
/// variable <c>OBUS_KEEP_TEST_DIRS=1</c> is set, so a failed run's silo logs and data can be read afterwards.
/// </summary>
public sealed class TempDirectory : IDisposable, IAsyncDisposable
{
    public TempDirectory(string prefix = "t")
    {
        var parent = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "obus-tests");
        Path = System.IO.Path.Combine(parent, $"{prefix}-{Guid.NewGuid().ToString("N")[..12]}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>A path inside this folder (not created).</summary>
    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("OBUS_KEEP_TEST_DIRS") == "1")
            return;
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a process we did not wait for may still hold a file; the OS cleans /tmp.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    public override string ToString() => Path;
}

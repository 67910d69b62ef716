namespace OrleansBus.Silo.Storage;

/// <summary>
/// Keeps two silos off one data directory. FileShare.None on Unix takes an exclusive advisory lock
/// (flock) that the kernel drops when the process dies, so a SIGKILLed silo never leaves a stale lock.
/// </summary>
public sealed class DataDirectoryLock : IDisposable
{
    private readonly FileStream _file;

    private DataDirectoryLock(FileStream file, string dataDir)
    {
        _file = file;
        DataDir = dataDir;
    }

    /// <summary>The locked directory, as a full path.</summary>
    public string DataDir { get; }

    public static DataDirectoryLock Acquire(string dataDir) =>
        TryAcquire(dataDir) ?? throw new InvalidOperationException(
            $"The data directory {Path.GetFullPath(dataDir)} is in use by another silo (lock file {Path.Combine(dataDir, ".lock")}). Stop it or choose another Bus:DataDir.");

    /// <summary>The lock, or null when another holder (another silo, or another lock in this process) has it.</summary>
    public static DataDirectoryLock? TryAcquire(string dataDir)
    {
        var path = Path.Combine(dataDir, ".lock");
        try
        {
            var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            file.SetLength(0);
            var pid = System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n");
            file.Write(pid);
            file.Flush();
            return new DataDirectoryLock(file, Path.GetFullPath(dataDir));
        }
        catch (IOException)
        {
            return null;
        }
    }

    public void Dispose() => _file.Dispose();
}

namespace OrleansBus.Silo.Storage;

/// <summary>
/// Keeps two silos off one data directory. FileShare.None on Unix takes an exclusive advisory lock
/// (flock) that the kernel drops when the process dies, so a SIGKILLed silo never leaves a stale lock.
/// </summary>
public sealed class DataDirectoryLock : IDisposable
{
    private readonly FileStream _file;

    private DataDirectoryLock(FileStream file) => _file = file;

    public static DataDirectoryLock Acquire(string dataDir)
    {
        var path = Path.Combine(dataDir, ".lock");
        try
        {
            var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            file.SetLength(0);
            var pid = System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n");
            file.Write(pid);
            file.Flush();
            return new DataDirectoryLock(file);
        }
        catch (IOException e)
        {
            throw new InvalidOperationException(
                $"The data directory {Path.GetFullPath(dataDir)} is in use by another silo (lock file {path}). Stop it or choose another Bus:DataDir.", e);
        }
    }

    public void Dispose() => _file.Dispose();
}

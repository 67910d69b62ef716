using Microsoft.Win32.SafeHandles;

namespace OrleansBus.Cli;

/// <summary>
/// Standard output as a raw stream whose writes fail when the reader has gone. <c>Console.OpenStandardOutput()</c>
/// ignores EPIPE on purpose, so a consumer piped into <c>head</c> would acknowledge lines nobody read. For a pipe,
/// socket or terminal (not seekable) this opens fd 1 as an unbuffered FileStream, which write(2)s and throws
/// <see cref="IOException"/> on EPIPE. For a regular file the console stream is kept: it writes at the shared file
/// offset, so <c>(obus consume …; echo done) &gt; out</c> appends correctly (a FileStream would pwrite at its own
/// position), and a file has no reader to lose.
/// </summary>
internal static class StandardOutput
{
    public static Stream Open()
    {
        if (OperatingSystem.IsWindows())
            return Console.OpenStandardOutput();
        var handle = new SafeFileHandle(1, ownsHandle: false);
        try
        {
            var stream = new FileStream(handle, FileAccess.Write, bufferSize: 0);
            if (!stream.CanSeek)
                return stream;
            stream.Dispose();
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            // Not something FileStream accepts (closed or odd descriptor): the console stream copes.
        }
        return Console.OpenStandardOutput();
    }
}

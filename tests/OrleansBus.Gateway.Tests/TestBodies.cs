namespace OrleansBus.Gateway.Tests;

/// <summary>Produce bodies: newline-terminated lines of printable pseudo-random bytes, reproducible by seed.</summary>
internal static class TestBodies
{
    public static byte[] Lines(int totalBytes, int seed, int lineBytes = 1000)
    {
        var random = new Random(seed);
        var body = new byte[totalBytes];
        for (var i = 0; i < body.Length; i++)
            body[i] = (byte)random.Next('!', '~' + 1);
        for (var end = lineBytes - 1; end < body.Length; end += lineBytes)
            body[end] = (byte)'\n';
        body[^1] = (byte)'\n';
        return body;
    }
}

namespace OrleansBus.Cli;

/// <summary>
/// Splits a stream into lines at <c>\n</c>, without copying them: each line is a slice of one growing buffer, valid
/// until the next call. The newline is not part of the line; a last line without one is still returned. Not thread safe.
/// </summary>
internal sealed class LineReader(Stream stream, int bufferBytes)
{
    private byte[] _buffer = new byte[bufferBytes];
    private int _start;
    private int _end;
    private bool _endOfStream;

    /// <summary>The next line, or null at the end of the stream.</summary>
    public async ValueTask<ReadOnlyMemory<byte>?> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var newline = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var line = _buffer.AsMemory(_start, newline);
                _start += newline + 1;
                return line;
            }
            if (_endOfStream)
            {
                if (_end == _start)
                    return null;
                var last = _buffer.AsMemory(_start, _end - _start);
                _start = _end;
                return last;
            }
            if (_start > 0)
            {
                // The previous line has been used by now: move the partial line to the front.
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            if (_end == _buffer.Length)
                Array.Resize(ref _buffer, _buffer.Length * 2); // a line longer than the buffer
            var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            if (read == 0)
                _endOfStream = true;
            else
                _end += read;
        }
    }
}

using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Tests.Storage;

/// <summary>
/// A batch already in memory (an Orleans client's, in pooled segments) is judged exactly as one streamed from an HTTP
/// body: same verdict, same message count and failing message, same CRC — whatever the segment boundaries.
/// </summary>
public sealed class ProduceBatchTests
{
    public static TheoryData<string> Bodies => new()
    {
        "a\n", "one\ntwo\nthree\n", "", "a\nb", "\n\n", "ok\n" + new string('x', 40) + "\n", new string('y', 41) + "\n", "z\n" + new string('w', 100),
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task An_in_memory_batch_in_any_segmentation_gets_the_streamed_verdict(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(bytes);
        await pipe.Writer.CompleteAsync();
        using var streamed = await ProduceBatch.ReadAsync(pipe.Reader, maxMessageBytes: 40, maxRequestBytes: 64, CancellationToken.None);

        foreach (var segmentLength in new[] { 1, 3, 7, 64 })
        {
            using var inMemory = ProduceBatch.FromSequence(Segmented(bytes, segmentLength), maxMessageBytes: 40, maxRequestBytes: 64);
            Assert.Equal((streamed.Error, streamed.ErrorMessageNumber), (inMemory.Error, inMemory.ErrorMessageNumber));
            if (streamed.Error == BatchError.MessageTooLarge)
                Assert.True(inMemory.ErrorValue > 40, $"the size read so far ({inMemory.ErrorValue}) should be over the limit"); // "at least": where the scan stops depends on the segments
            if (streamed.Error == BatchError.None)
                Assert.Equal((streamed.Messages, streamed.Crc), (inMemory.Messages, inMemory.Crc));
        }
    }

    [Fact]
    public void A_batch_over_the_request_limit_is_refused_with_its_size()
    {
        using var batch = ProduceBatch.FromSequence(new ReadOnlySequence<byte>(new byte[65]), maxMessageBytes: 40, maxRequestBytes: 64);
        Assert.Equal((BatchError.RequestTooLarge, 65L), (batch.Error, batch.ErrorValue));
    }

    private static ReadOnlySequence<byte> Segmented(byte[] bytes, int length)
    {
        if (bytes.Length == 0)
            return ReadOnlySequence<byte>.Empty;
        Segment? first = null, last = null;
        for (var at = 0; at < bytes.Length; at += length)
        {
            var next = new Segment(bytes.AsMemory(at, Math.Min(length, bytes.Length - at)), at);
            if (last is null)
                first = next;
            else
                last.SetNext(next);
            last = next;
        }
        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long index)
        {
            Memory = memory;
            RunningIndex = index;
        }

        public void SetNext(Segment next) => Next = next;
    }
}

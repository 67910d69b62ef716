using Orleans.Storage;

namespace OrleansBus.Silo.Grains;

/// <summary>The write loop of <see cref="ConsumerGroupGrain"/>: one state write in flight at a time, later changes ride the next.</summary>
public sealed partial class ConsumerGroupGrain
{
    private static readonly TimeSpan LazyFlushDelay = TimeSpan.FromSeconds(1);
    private bool _flushScheduled;

    private static TaskCompletionSource NewWrite() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Notes a change and makes sure a write will carry it; the task completes when that write has succeeded.</summary>
    private Task Changed()
    {
        if (_fenced)
            return Task.FromException(new InconsistentStateException("This activation of the group was superseded."));
        _changed++;
        var write = _nextWrite.Task;
        if (!_writing)
            _ = WriteLoopAsync();
        return write;
    }

    /// <summary>Notes a change nobody waits for: it goes out with the next write, which this starts a second from now if none comes sooner.</summary>
    private void ChangedLazily()
    {
        if (_fenced)
            return;
        _changed++;
        if (!_flushScheduled)
        {
            _flushScheduled = true;
            _ = FlushLaterAsync();
        }
    }

    private async Task FlushLaterAsync()
    {
        await Task.Delay(LazyFlushDelay);
        _flushScheduled = false;
        if (!_writing && !_fenced && _saved < _changed)
            _ = WriteLoopAsync();
    }

    /// <summary>Waits until the current changes are durable; throws when the write failed.</summary>
    private Task PersistAsync() => Changed();

    /// <summary>Waits until the current changes are durable; false when another activation owns the group (the caller's lease is lost).</summary>
    private async Task<bool> TryPersistAsync()
    {
        try
        {
            await Changed();
            return true;
        }
        catch (InconsistentStateException)
        {
            return false;
        }
    }

    private async Task WriteLoopAsync()
    {
        _writing = true;
        try
        {
            while (_saved < _changed && !_fenced)
            {
                var target = _changed;
                var carrying = _nextWrite;
                _nextWrite = NewWrite(); // changes from now on wait for the next write
                try
                {
                    await state.WriteStateAsync();
                    _saved = target;
                    carrying.SetResult();
                }
                catch (Exception e)
                {
                    // Another activation wrote first (ETag), or the database failed: either way this memory may differ from
                    // what is durable, so this activation answers nothing more and the next call loads the state afresh.
                    _fenced = true;
                    LogWriteFailed(logger, this.GetPrimaryKeyString(), e is InconsistentStateException ? "another activation owns the group" : e.Message);
                    carrying.SetException(e);
                    _nextWrite.SetException(e);
                    _leases.Clear();
                    this.DeactivateOnIdle();
                }
            }
        }
        finally
        {
            _writing = false;
        }
    }

    [LoggerMessage(2302, LogLevel.Warning, "Group {Key}: writing its state failed ({Reason}); this activation stops serving and the next call reloads it")]
    private static partial void LogWriteFailed(ILogger logger, string key, string reason);
}

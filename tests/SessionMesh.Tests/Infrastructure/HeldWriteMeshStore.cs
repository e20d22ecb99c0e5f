using System.Reflection;
using Microsoft.AspNetCore.Builder;
using SessionMesh.Store;

namespace SessionMesh.Tests.Infrastructure;

/// <summary>
/// A real store whose next write can be held: <see cref="HoldNextWrite"/> makes the next write to begin (either way) wait
/// until <see cref="Release"/>, while every other call (and every later write) goes through. How a test shows that
/// something is answered without waiting for a write, and what happens when another write overtakes it.
/// </summary>
public class HeldWriteMeshStore : DispatchProxy
{
    private IMeshStore _inner = null!;
    private TaskCompletionSource? _armed;
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Replaces the server's store with a wrapper of it; the returned handle holds and releases writes.</summary>
    public static Action<WebApplicationBuilder> Install(out HeldWriteMeshStore handle)
    {
        var store = Create<IMeshStore, HeldWriteMeshStore>();
        var gate = (HeldWriteMeshStore)(object)store;
        handle = gate;
        return StoreWrapper.Around(inner =>
        {
            gate._inner = inner;
            return store;
        });
    }

    /// <summary>The next write to begin waits for <see cref="Release"/>.</summary>
    public void HoldNextWrite() => Interlocked.Exchange(ref _armed, new TaskCompletionSource());

    /// <summary>Completes once the held write has begun (and is waiting).</summary>
    public Task Held => _held.Task;

    /// <summary>Lets the held write go on.</summary>
    public void Release() => _release.TrySetResult();

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        if (targetMethod.Name is nameof(IMeshStore.BeginWriteAsync) or nameof(IMeshStore.BeginRidingWriteAsync)
            && Interlocked.Exchange(ref _armed, null) is not null)
        {
            return HeldAsync(() => (Task<IMeshWriteTransaction>)targetMethod.Invoke(_inner, args)!, (CancellationToken)args![^1]!);
        }
        try
        {
            return targetMethod.Invoke(_inner, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }

    private async Task<IMeshWriteTransaction> HeldAsync(Func<Task<IMeshWriteTransaction>> begin, CancellationToken cancellationToken)
    {
        _held.TrySetResult();
        await _release.Task.WaitAsync(cancellationToken);
        return await begin();
    }
}

using System.Collections.Concurrent;
using System.Reflection;
using SessionMesh.Store;

namespace SessionMesh.Tests.Infrastructure;

/// <summary>
/// A real store that counts the calls made on it, by method name: how a test proves that something was answered from
/// memory rather than by the store. The calls made on its write transactions are counted too, as <c>tx.</c> and the
/// method name. A <see cref="DispatchProxy"/>, so it follows the store contract without restating it.
/// </summary>
public class CountingMeshStore : DispatchProxy
{
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);
    private IMeshStore _inner = null!;

    /// <summary>Wraps <paramref name="inner"/>; the returned store forwards every call to it.</summary>
    public static (IMeshStore Store, CountingMeshStore Counter) Wrap(IMeshStore inner)
    {
        var store = Create<IMeshStore, CountingMeshStore>();
        var counter = (CountingMeshStore)(object)store;
        counter._inner = inner;
        return (store, counter);
    }

    /// <summary>Wraps the server's store; <paramref name="counter"/> counts its calls.</summary>
    public static Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder> Install(out CountingMeshStore counter)
    {
        var store = Create<IMeshStore, CountingMeshStore>();
        var wrapper = (CountingMeshStore)(object)store;
        counter = wrapper;
        return StoreWrapper.Around(inner =>
        {
            wrapper._inner = inner;
            return store;
        });
    }

    /// <summary>How many times the store method <paramref name="method"/> was called.</summary>
    public int Calls(string method) => _calls.GetValueOrDefault(method);

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        _calls.AddOrUpdate(targetMethod.Name, 1, static (_, n) => n + 1);
        try
        {
            var result = targetMethod.Invoke(_inner, args);
            return result is Task<IMeshWriteTransaction> begun ? CountingWriteTransaction.WrapAsync(begun, _calls) : result;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }
}

/// <summary>A write transaction that counts its calls into its store's counter, as <c>tx.</c> and the method name.</summary>
public class CountingWriteTransaction : DispatchProxy
{
    private ConcurrentDictionary<string, int> _calls = null!;
    private IMeshWriteTransaction _inner = null!;

    internal static async Task<IMeshWriteTransaction> WrapAsync(Task<IMeshWriteTransaction> begun, ConcurrentDictionary<string, int> calls)
    {
        var tx = Create<IMeshWriteTransaction, CountingWriteTransaction>();
        var counter = (CountingWriteTransaction)(object)tx;
        counter._inner = await begun;
        counter._calls = calls;
        return tx;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        _calls.AddOrUpdate("tx." + targetMethod.Name, 1, static (_, n) => n + 1);
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
}

using System.Buffers;

namespace SessionMesh.Store.Sqlite;

/// <summary>
/// A command event's data with its heavy fields lifted (<see cref="CommandEventData.Lift"/>): UTF-8 in a pooled buffer,
/// bound as it is, and given back to the pool on <see cref="Dispose"/>. The default is "nothing lifted".
/// </summary>
internal readonly struct LiftedJson(string commandId, byte[] buffer, int length, int lifted) : IDisposable
{
    /// <summary>The command the event is of; null when nothing was lifted.</summary>
    public string? CommandId { get; } = commandId;

    /// <summary>The flags of the fields lifted (<c>events.lifted</c>).</summary>
    public int Lifted { get; } = lifted;

    /// <summary>The data with the lifted fields set to <c>null</c>.</summary>
    public ReadOnlySpan<byte> Json => buffer.AsSpan(0, length);

    public void Dispose()
    {
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

using Microsoft.Extensions.Logging;

namespace SessionMesh.Mesh;

internal static partial class MeshLog
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "Lock {Cluster}/{Name} acquired by session {SessionId}")]
    public static partial void LockAcquired(ILogger logger, string cluster, string name, string sessionId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Lock {Cluster}/{Name} of session {SessionId} released ({Reason})")]
    public static partial void LockReleased(ILogger logger, string cluster, string name, string sessionId, string reason);
}

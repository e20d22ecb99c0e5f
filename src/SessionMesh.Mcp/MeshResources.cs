using System.ComponentModel;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Server;
using SessionMesh.Contracts;
using SessionMesh.Mesh;

namespace SessionMesh.Mcp;

// Template variables are the API's snake_case names, as in the tools.
#pragma warning disable IDE1006

/// <summary>Agents and sessions as resources a client can read by URI.</summary>
[McpServerResourceType]
internal sealed class MeshResources
{
    [McpServerResource(UriTemplate = "mesh://agents/{agent_id}", Name = "agent", Title = "An agent", MimeType = "application/json")]
    [Description("An agent as GET /api/session-mesh/agents/{agent_id} shows it: open session, status, labels, specializations, children.")]
    public static async Task<string> AgentAsync(IMeshOperations mesh, string agent_id, CancellationToken cancellationToken) =>
        JsonSerializer.Serialize(await ReadAsync(() => mesh.GetAgentAsync(agent_id, cancellationToken)), MeshJsonContext.Default.AgentView);

    [McpServerResource(UriTemplate = "mesh://sessions/{session_id}", Name = "session", Title = "A session", MimeType = "application/json")]
    [Description("A session, open or ended, as GET /api/session-mesh/sessions/{session_id} shows it.")]
    public static async Task<string> SessionAsync(IMeshOperations mesh, string session_id, CancellationToken cancellationToken) =>
        JsonSerializer.Serialize(await ReadAsync(() => mesh.GetSessionAsync(session_id, cancellationToken)), MeshJsonContext.Default.SessionView);

    /// <summary>A resource read answers JSON-RPC errors, not tool results: a missing thing is ResourceNotFound, the rest say their code.</summary>
    private static async Task<T> ReadAsync<T>(Func<Task<T>> read)
    {
        try
        {
            return await read();
        }
        catch (MeshException ex) when (ex.Kind == MeshErrorKind.NotFound)
        {
            throw new McpProtocolException($"{ex.Code}: {ex.Message}", ex, McpErrorCode.ResourceNotFound);
        }
        catch (MeshException ex)
        {
            throw new McpException(MeshToolErrors.Describe(ex.Code, ex.Kind, ex.Message, ex.Field), ex);
        }
        catch (MeshUnavailableException ex)
        {
            throw new McpException(MeshToolErrors.Describe(ex.Code, null, ex.Message, null), ex);
        }
    }
}

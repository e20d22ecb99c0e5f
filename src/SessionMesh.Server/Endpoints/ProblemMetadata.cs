using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using SessionMesh.Contracts;
using SessionMesh.Server.Hosting;

namespace SessionMesh.Server.Endpoints;

/// <summary>
/// Declares the problems an endpoint can answer, so <c>/openapi/v1.json</c> lists every one. Handlers throw
/// <see cref="Mesh.MeshException"/> and <see cref="MeshErrorMapping"/> answers it; a <c>Results&lt;Ok&lt;T&gt;, NotFound&lt;...&gt;&gt;</c>
/// union per handler would have to catch and re-map each refusal, a second error path. The schema is
/// <see cref="ProblemResponse"/>, the shape on the wire (with <c>code</c>, <c>field</c>, <c>trace_id</c>).
/// </summary>
internal static class ProblemMetadata
{
    public static TBuilder ProducesProblems<TBuilder>(this TBuilder builder, params int[] statuses) where TBuilder : IEndpointConventionBuilder
    {
        foreach (var status in statuses)
        {
            builder.WithMetadata(new ProducesResponseTypeMetadata(status, typeof(ProblemResponse), [Problems.ContentType]));
        }
        return builder;
    }

    /// <summary>Every call that writes (not GET) can find the disk full: 507 <c>storage_full</c>.</summary>
    public static TBuilder ProducesStorageFullOnWrites<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        // Finally: the endpoint's HTTP methods are known by then.
        builder.Finally(endpoint =>
        {
            if (endpoint.Metadata.OfType<Microsoft.AspNetCore.Routing.IHttpMethodMetadata>().Any(m => m.HttpMethods.Any(method => !HttpMethods.IsGet(method))))
            {
                endpoint.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status507InsufficientStorage, typeof(ProblemResponse), [Problems.ContentType]));
            }
        });
        return builder;
    }
}

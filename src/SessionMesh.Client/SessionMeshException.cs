using System.Net;
using SessionMesh.Contracts;

namespace SessionMesh.Client;

/// <summary>
/// The mesh answered with an error: the problem+json body turned into a typed exception carrying
/// the HTTP <see cref="Status"/>, the stable machine <see cref="Code"/>, and the field at fault.
/// </summary>
public sealed class SessionMeshException : Exception
{
    /// <summary>Creates the exception for an error response.</summary>
    public SessionMeshException(int status, ProblemResponse? problem, TimeSpan? retryAfter = null)
        : base(FormatMessage(status, problem))
    {
        Status = status;
        Problem = problem;
        RetryAfter = retryAfter;
    }

    /// <summary>The HTTP status code.</summary>
    public int Status { get; }

    /// <summary>The stable machine code (<c>agent_not_found</c>, <c>invalid_key</c>, ...), when the server sent one.</summary>
    public string? Code => Problem?.Code;

    /// <summary>The human-readable explanation.</summary>
    public string? Detail => Problem?.Detail;

    /// <summary>The short summary of the problem type.</summary>
    public string? Title => Problem?.Title;

    /// <summary>The request field at fault, when there is one.</summary>
    public string? Field => Problem?.Field;

    /// <summary>The parsed problem body, or null when the server sent none.</summary>
    public ProblemResponse? Problem { get; }

    /// <summary>The <c>Retry-After</c> the server asked for (429, 503).</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>The status as an <see cref="HttpStatusCode"/>.</summary>
    public HttpStatusCode StatusCode => (HttpStatusCode)Status;

    /// <summary>True for 404.</summary>
    public bool IsNotFound => Status == 404;

    /// <summary>True for 401 and 403.</summary>
    public bool IsUnauthorized => Status is 401 or 403;

    /// <summary>True for 409.</summary>
    public bool IsConflict => Status == 409;

    /// <summary>True for 410 (the session ended, or the revision was compacted).</summary>
    public bool IsGone => Status == 410;

    private static string FormatMessage(int status, ProblemResponse? problem)
    {
        var text = problem?.Detail ?? problem?.Title ?? $"HTTP {status}";
        return problem?.Code is { } code ? $"{text} ({status} {code})" : $"{text} ({status})";
    }
}

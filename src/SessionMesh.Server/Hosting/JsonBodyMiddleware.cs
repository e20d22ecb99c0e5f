using Microsoft.AspNetCore.Http;

namespace SessionMesh.Server.Hosting;

/// <summary>
/// Reads an API request body as JSON whatever its Content-Type says: the seed's own curl example sends
/// none, so curl claims <c>application/x-www-form-urlencoded</c>.
/// </summary>
internal sealed class JsonBodyMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.Path.StartsWithSegments(ServerHost.ApiPrefix)
            && (request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0)
            && !(request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) ?? false))
        {
            request.ContentType = "application/json";
        }
        return next(context);
    }
}

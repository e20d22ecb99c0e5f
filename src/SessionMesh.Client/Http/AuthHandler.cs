using System.Net;
using System.Net.Http.Headers;

namespace SessionMesh.Client.Http;

/// <summary>
/// Outermost handler: puts the bearer key on each request and, on a 401 when a way to get a fresh key
/// is configured, gets one and sends the request once more. It sits outside the retry handler so a
/// transient failure is retried with the key at hand, and a refused key is refreshed once, not per attempt.
/// </summary>
internal sealed class AuthHandler(MeshTransport transport) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Options.TryGetValue(MeshRequestOptions.BearerOverride, out var overrideKey))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", overrideKey);
            return await base.SendAsync(request, cancellationToken);
        }

        var key = transport.CurrentKey;
        SetKey(request, key);
        var response = await base.SendAsync(request, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Unauthorized || !transport.CanRefreshKey)
        {
            return response;
        }

        // Buffer the 401 so it can still be handed back if no fresh key comes.
        await response.Content.LoadIntoBufferAsync(cancellationToken);
        var rejection = await MeshTransport.ToExceptionAsync(response, cancellationToken);
        var freshKey = await transport.RefreshKeyAsync(key, rejection, cancellationToken);
        if (freshKey is null || freshKey == key)
        {
            return response;
        }
        response.Dispose();
        SetKey(request, freshKey);
        return await base.SendAsync(request, cancellationToken);
    }

    private static void SetKey(HttpRequestMessage request, string? key) =>
        request.Headers.Authorization = key is null ? null : new AuthenticationHeaderValue("Bearer", key);
}

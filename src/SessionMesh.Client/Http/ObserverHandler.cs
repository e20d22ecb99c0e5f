namespace SessionMesh.Client.Http;

/// <summary>Innermost handler: sees each attempt on the wire, counts it, and reports it with the key masked.</summary>
internal sealed class ObserverHandler(Action<MeshRequestLog>? onRequest, TimeProvider timeProvider) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Options.TryGetValue(MeshRequestOptions.Attempts, out var counter))
        {
            counter.Increment();
        }
        if (onRequest is null)
        {
            return await base.SendAsync(request, cancellationToken);
        }
        var started = timeProvider.GetTimestamp();
        var maskedKey = SessionMesh.Client.KeyMask.Mask(request.Headers.Authorization?.Parameter);
        try
        {
            var response = await base.SendAsync(request, cancellationToken);
            onRequest(new MeshRequestLog(request.Method.Method, request.RequestUri!, (int)response.StatusCode, timeProvider.GetElapsedTime(started), maskedKey, null));
            return response;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            onRequest(new MeshRequestLog(request.Method.Method, request.RequestUri!, null, timeProvider.GetElapsedTime(started), maskedKey, ex.Message));
            throw;
        }
    }
}

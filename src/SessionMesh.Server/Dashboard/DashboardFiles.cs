using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;

namespace SessionMesh.Server.Dashboard;

/// <summary>
/// The web dashboard at <c>/</c>: static files embedded in this assembly (Dashboard/wwwroot), served with a strict
/// Content-Security-Policy. Nothing is loaded from outside the server; the page calls the API with the key the
/// operator pastes, in an Authorization header, so the files themselves need no key.
/// </summary>
internal static class DashboardFiles
{
    /// <summary>
    /// Scripts, styles, images and API calls from this origin only; no inline script or style, no frames, no plugins,
    /// no form posts elsewhere. Script and style elements' style attributes set from script (CSSOM) are not inline styles.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private const string ResourceRoot = "SessionMesh.Server.Dashboard.wwwroot";

    public static void UseDashboard(this WebApplication app)
    {
        var files = new EmbeddedFileProvider(typeof(DashboardFiles).Assembly, ResourceRoot);
        var contentTypes = new FileExtensionContentTypeProvider();
        contentTypes.Mappings[".mjs"] = "text/javascript";
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            ContentTypeProvider = contentTypes,
            OnPrepareResponse = context => AddHeaders(context.Context.Response.Headers),
        });
    }

    private static void AddHeaders(IHeaderDictionary headers)
    {
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        // Revalidate every time (ETag): a new server version's page never runs with an old version's modules.
        headers.CacheControl = "no-cache";
    }
}

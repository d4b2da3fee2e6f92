using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace MaskInversion.Silo;

/// <summary>Config section "Web" (env: Web__Token=…).</summary>
public sealed class WebSettings
{
    public const string Section = "Web";

    /// <summary>Bearer token for every HTTP endpoint (the dashboard with its log stream at /dashboard/Trace, the status
    /// page). Required when they listen beyond loopback; when set it is required on loopback too.</summary>
    public string? Token { get; set; }
}

/// <summary>Who may use the silo's HTTP endpoints: loopback only without a token; with a token, whoever presents it
/// (header <c>Authorization: Bearer …</c>, or once <c>?access_token=…</c> in a browser, which sets a cookie).</summary>
public static class WebAccess
{
    public const int MinimumTokenLength = 16;
    const string Cookie = "mi_token";
    const string QueryParameter = "access_token";

    /// <summary>The addresses the host will listen on, from the keys Kestrel reads (urls, http(s)_ports,
    /// Kestrel:Endpoints). Nothing configured: Kestrel's default, localhost.</summary>
    public static IReadOnlyList<string> ConfiguredUrls(IConfiguration config)
    {
        static IEnumerable<string> Split(string? list) => (list ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var urls = Split(config["urls"]).ToList();
        if (urls.Count == 0)
        {
            // Without urls, ASPNETCORE_HTTP_PORTS / HTTP_PORTS bind every interface (the default in .NET container images).
            urls.AddRange(Split(config["http_ports"]).Select(p => $"http://*:{p}"));
            urls.AddRange(Split(config["https_ports"]).Select(p => $"https://*:{p}"));
        }
        urls.AddRange(config.GetSection("Kestrel:Endpoints").GetChildren().Select(e => e["Url"]).OfType<string>());
        return urls;
    }

    /// <summary>Only "localhost" and loopback IP literals stay on the machine; "*", "+", "0.0.0.0", "[::]" and host
    /// names bind beyond it.</summary>
    public static bool IsLoopback(string url)
    {
        var host = url;
        int scheme = host.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0) host = host[(scheme + 3)..];
        int slash = host.IndexOf('/');
        if (slash >= 0) host = host[..slash];
        if (host.StartsWith('['))
            host = host[1..host.IndexOf(']')];
        else if (host.LastIndexOf(':') is var colon and >= 0)
            host = host[..colon];
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(Normalize(ip));
    }

    /// <summary>Refuses a configuration whose endpoints reach beyond loopback without a token, and a short token.</summary>
    public static void Validate(IEnumerable<string> urls, WebSettings web)
    {
        if (web.Token is { Length: > 0 } token && token.Length < MinimumTokenLength)
            throw new InvalidOperationException($"Web:Token is {token.Length} characters; use at least {MinimumTokenLength} (e.g. `openssl rand -hex 32`).");
        var open = urls.Where(u => !IsLoopback(u)).ToList();
        if (open.Count > 0 && string.IsNullOrEmpty(web.Token))
            throw new InvalidOperationException(
                $"The HTTP endpoints listen beyond loopback ({string.Join(", ", open)}) but Web:Token is not set. " +
                "Set Web__Token (the dashboard and its log stream then need `Authorization: Bearer <token>`) or listen on localhost only.");
    }

    public static IApplicationBuilder UseWebAccess(this IApplicationBuilder app, WebSettings web)
    {
        var expected = web.Token is { Length: > 0 } t ? Encoding.UTF8.GetBytes(t) : null;
        return app.Use(async (context, next) =>
        {
            if (expected is null)
            {
                // Defence in depth: without a token only connections that arrive on loopback are served, whatever
                // the bind configuration turned out to be.
                if (context.Connection.LocalIpAddress is { } local && !IPAddress.IsLoopback(Normalize(local)))
                {
                    context.Response.StatusCode = StatusCodes.Status403Forbidden;
                    return;
                }
                await next(context);
                return;
            }
            var header = context.Request.Headers.Authorization.ToString();
            var presented = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim()
                : context.Request.Cookies[Cookie];
            if (Matches(presented, expected))
            {
                await next(context);
                return;
            }
            if (context.Request.Query[QueryParameter].ToString() is { Length: > 0 } query && Matches(query, expected))
            {
                // A browser cannot add the header to the dashboard's own requests: the cookie carries the token.
                context.Response.Cookies.Append(Cookie, query, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = context.Request.IsHttps });
                context.Response.Redirect(context.Request.PathBase + context.Request.Path);
                return;
            }
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer";
        });
    }

    static bool Matches(string? presented, byte[] expected) =>
        presented is { Length: > 0 } && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), expected);

    static IPAddress Normalize(IPAddress ip) => ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip;
}

using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Foobar.App.Guestbook;

/// <summary>
/// Anti-forgery for the guestbook form by double submission: a random token in a cookie the page
/// sets, repeated in a hidden field of the form. Another site can make a browser send the cookie
/// but cannot read it to put it in the form, and SameSite=Strict keeps the browser from sending it
/// with another site's POST at all. Nothing is stored on the server, so any app server can check
/// a form another one rendered.
/// </summary>
public static class AntiForgery
{
    /// <summary>The cookie holding the token.</summary>
    public const string CookieName = "foobar_form";

    /// <summary>The form field repeating it.</summary>
    public const string FieldName = "token";

    /// <summary>The request's token, or a new one set as a cookie on the response.</summary>
    public static string TokenFor(HttpContext context)
    {
        if (context.Request.Cookies[CookieName] is { Length: 32 } existing && IsHex(existing))
        {
            return existing;
        }
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        context.Response.Cookies.Append(CookieName, token, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = IsHttps(context),
            Path = "/",
        });
        return token;
    }

    /// <summary>Whether <paramref name="submitted"/> is the token of the request's cookie (compared in constant time).</summary>
    public static bool IsValid(HttpContext context, string? submitted) =>
        context.Request.Cookies[CookieName] is { Length: 32 } cookie
        && submitted is { Length: 32 }
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(cookie), Encoding.ASCII.GetBytes(submitted));

    /// <summary>Whether the client used https: to the first hop, as X-Forwarded-Proto says.</summary>
    private static bool IsHttps(HttpContext context) =>
        context.Request.IsHttps || string.Equals(context.Request.Headers["X-Forwarded-Proto"].ToString(), "https", StringComparison.OrdinalIgnoreCase);

    private static bool IsHex(string text) => text.All(char.IsAsciiHexDigitLower);
}

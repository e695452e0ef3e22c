using System.Net;
using System.Text;
using AuthenticatedHttp.Tokens.Internal;

namespace AuthenticatedHttp.Tests.Tokens;

public sealed class TokenResponseParserTests
{
    [Theory]
    [InlineData("3600", 3600)]
    [InlineData("\"3600\"", 3600)]
    [InlineData("3600.0", 3600)]
    [InlineData("1", 1)]
    public void Parse_ExpiresIn_NumberOrNumericString(string expiresIn, int seconds)
    {
        var result = Parse(HttpStatusCode.OK, $$"""{"access_token":"abc","token_type":"Bearer","expires_in":{{expiresIn}}}""");

        Assert.True(result.IsSuccess);
        Assert.Equal("abc", result.AccessToken);
        Assert.Equal(TimeSpan.FromSeconds(seconds), result.ExpiresIn);
    }

    [Theory]
    [InlineData("""{"access_token":"abc","token_type":"Bearer"}""")]
    [InlineData("""{"access_token":"abc","token_type":"Bearer","expires_in":0}""")]
    [InlineData("""{"access_token":"abc","token_type":"Bearer","expires_in":null}""")]
    [InlineData("""{"access_token":"abc","token_type":"bearer","expires_in":"0"}""")]
    [InlineData("""{"access_token":"abc"}""")]
    public void Parse_ExpiresInMissingOrZero_SucceedsWithUnknownLifetime(string body)
    {
        var result = Parse(HttpStatusCode.OK, body);

        Assert.True(result.IsSuccess);
        Assert.Null(result.ExpiresIn);
    }

    [Theory]
    [InlineData("""{"access_token":"abc","expires_in":-1}""", "negative")]
    [InlineData("""{"access_token":"abc","expires_in":1e30}""", "more than ten years")]
    [InlineData("""{"access_token":"abc","expires_in":3599.5}""", "not a whole number")]
    [InlineData("""{"access_token":"abc","expires_in":"soon"}""", "not a number of seconds")]
    [InlineData("""{"access_token":"abc","expires_in":true}""", "not a number of seconds")]
    [InlineData("""{"access_token":"abc","token_type":"mac"}""", "'mac', not 'Bearer'")]
    [InlineData("""{"access_token":"abc","token_type":7}""", "'token_type' is not a string")]
    [InlineData("""{"token_type":"Bearer","expires_in":3600}""", "no 'access_token'")]
    [InlineData("""{"access_token":"","expires_in":3600}""", "'access_token' is empty")]
    [InlineData("""{"access_token":42}""", "'access_token' is not a string")]
    [InlineData("""{"access_token":"a b"}""", "not allowed in a Bearer token")]
    [InlineData("""{"access_token":"a","access_token":"b"}""", "more than once")]
    [InlineData("""["access_token"]""", "not an object")]
    [InlineData("""<html><body>Sign in</body></html>""", "not JSON")]
    [InlineData("""{"access_token":"abc",""", "not JSON")]
    [InlineData("", "empty body")]
    [InlineData("""{"access_token":"abc","refresh_token":7}""", "'refresh_token' is not a non-empty string")]
    [InlineData("""{"access_token":"abc","refresh_token":""}""", "'refresh_token' is not a non-empty string")]
    [InlineData("{\"access_token\":\"abc\",\"refresh_token\":\"a\\u0001b\"}", "printable ASCII")]
    [InlineData("""{"access_token":"abc","refresh_token":"a","refresh_token":"b"}""", "'refresh_token' more than once")]
    public void Parse_MalformedSuccessResponse_FailsPrecisely(string body, string expected)
    {
        var result = Parse(HttpStatusCode.OK, body);

        Assert.False(result.IsSuccess);
        Assert.Equal(TokenFailureKind.MalformedResponse, result.FailureKind);
        Assert.False(result.IsTransient);
        Assert.Contains(expected, result.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"access_token":"abc","refresh_token":"tGzv3JOkF0XG5Qx2TlKWIA"}""", "tGzv3JOkF0XG5Qx2TlKWIA")]
    [InlineData("""{"access_token":"abc","refresh_token":null}""", null)]
    [InlineData("""{"access_token":"abc"}""", null)]
    public void Parse_RefreshToken_IsReadWhenPresent(string body, string? refreshToken) =>
        Assert.Equal(refreshToken, Parse(HttpStatusCode.OK, body).RefreshToken);

    [Fact]
    public void Parse_Http200WithErrorBody_IsAnOAuthFailure()
    {
        var result = Parse(HttpStatusCode.OK, """{"error":"invalid_scope","error_description":"no such scope","error_uri":"https://idp/help"}""");

        Assert.False(result.IsSuccess);
        Assert.Equal(TokenFailureKind.OAuthError, result.FailureKind);
        Assert.Equal("invalid_scope", result.Error);
        Assert.Equal("no such scope", result.ErrorDescription);
        Assert.Equal(new Uri("https://idp/help"), result.ErrorUri);
        Assert.False(result.IsTransient);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest, "invalid_client", false)]
    [InlineData(HttpStatusCode.Unauthorized, "invalid_client", false)]
    [InlineData(HttpStatusCode.BadRequest, "invalid_grant", false)]
    [InlineData(HttpStatusCode.BadRequest, "unauthorized_client", false)]
    [InlineData(HttpStatusCode.ServiceUnavailable, "temporarily_unavailable", true)]
    [InlineData(HttpStatusCode.BadRequest, "server_error", true)]
    [InlineData(HttpStatusCode.TooManyRequests, "slow_down", true)]
    public void Parse_OAuthError_CarriesCodeAndTransience(HttpStatusCode status, string error, bool transient)
    {
        var result = Parse(status, $$"""{"error":"{{error}}"}""");

        Assert.Equal(TokenFailureKind.OAuthError, result.FailureKind);
        Assert.Equal(error, result.Error);
        Assert.Null(result.ErrorDescription);
        Assert.Equal(transient, result.IsTransient);
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError, true)]
    [InlineData(HttpStatusCode.BadGateway, true)]
    [InlineData(HttpStatusCode.RequestTimeout, true)]
    [InlineData(HttpStatusCode.NotFound, false)]
    [InlineData(HttpStatusCode.Forbidden, false)]
    public void Parse_HttpErrorWithoutOAuthBody_IsHttpError(HttpStatusCode status, bool transient)
    {
        var result = TokenResponseParser.Parse(status, "<html>oops</html>"u8, bodyTooLarge: false, "text/html");

        Assert.Equal(TokenFailureKind.HttpError, result.FailureKind);
        Assert.Equal(transient, result.IsTransient);
        Assert.Contains($"HTTP {(int)status}", result.Problem, StringComparison.Ordinal);
        Assert.Contains("text/html", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BodyTooLarge_FailsWithoutParsing()
    {
        var result = TokenResponseParser.Parse(HttpStatusCode.OK, default, bodyTooLarge: true, "application/json");

        Assert.Equal(TokenFailureKind.MalformedResponse, result.FailureKind);
        Assert.Contains("64 KiB", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_HostileErrorDescription_IsSanitizedAndCapped()
    {
        var description = "line1\r\nline2" + new string('x', 5000);
        var result = Parse(HttpStatusCode.BadRequest, $$"""{"error":"invalid_request","error_description":"{{description.Replace("\r\n", "\\r\\n", StringComparison.Ordinal)}}"}""");

        Assert.DoesNotContain('\n', result.ErrorDescription!);
        Assert.True(result.ErrorDescription!.Length <= 513);
    }

    [Fact]
    public void Parse_ErrorMemberNotAString_IsMalformed()
    {
        var result = Parse(HttpStatusCode.OK, """{"error":{"code":1},"access_token":"abc"}""");

        Assert.Equal(TokenFailureKind.MalformedResponse, result.FailureKind);
    }

    private static TokenEndpointResult Parse(HttpStatusCode status, string body) =>
        TokenResponseParser.Parse(status, Encoding.UTF8.GetBytes(body), bodyTooLarge: false, "application/json");
}

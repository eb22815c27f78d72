using System.Buffers;
using System.Globalization;
using System.Security;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Xml;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using StorageCloud.ObjectLayer;
using StorageCloud.Proxy.Auth;
using StorageCloud.Service.Http;

namespace StorageCloud.Proxy.S3;

/// <summary>
/// S3's browser upload (POST Object): a multipart/form-data POST to /bucket whose fields before "file" name the key,
/// metadata and outcome, signed by a policy document (SigV2 or SigV4 form fields) or unsigned for a publicly
/// writable bucket. The policy is checked before the first byte of the file is read; the file streams into the
/// object by a Swift PUT as the key's owner, its content-length-range enforced on the way, so a refused upload
/// leaves no object.
/// </summary>
public sealed class PostObjectHandler(HttpContext context, RequestDelegate next, IEnumerable<IS3CredentialSource> sources, BucketRegistry registry,
    Cluster cluster, ProxyOptions options, TimeProvider clock)
{
    /// <summary>All the fields before the file together (names, values and a charge per part, so empty parts count too).</summary>
    private const int MaxFieldBytes = 64 * 1024;

    private const int PerFieldCharge = 64;
    private const string FilenameVariable = "${filename}";
    private const string MetaPrefix = "x-amz-meta-";

    private static readonly string[] StoredHeaders = ["Content-Type", "Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Expires"];
    private static readonly string[] SignatureFields = ["policy", "signature", "AWSAccessKeyId", "x-amz-signature", "x-amz-credential", "x-amz-algorithm"];
    private static readonly HashSet<string> FieldsOutsidePolicy = new(StringComparer.OrdinalIgnoreCase) { "policy", "signature", "AWSAccessKeyId", "file", "x-amz-signature" };

    private static readonly string[] ExpirationFormats =
        ["yyyy-MM-dd'T'HH:mm:ss'Z'", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", "yyyy-MM-dd'T'HH:mm:sszzz", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz"];

    /// <summary>True for an unsigned POST with a multipart/form-data body: a browser upload when it names a bucket.</summary>
    public static bool IsFormUpload(HttpRequest request) =>
        HttpMethods.IsPost(request.Method) && !request.Headers.ContainsKey("Authorization") && !request.Headers.ContainsKey("X-Auth-Token")
        && !request.Headers.ContainsKey("X-Storage-Token") && Boundary(request) is not null;

    private static string? Boundary(HttpRequest request) =>
        MediaTypeHeaderValue.TryParse(request.ContentType, out var type) && type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
        && HeaderUtilities.RemoveQuotes(type.Boundary) is { Length: > 0 and <= 70 } boundary ? boundary.ToString() : null;

    /// <summary>Answers the upload to <paramref name="bucket"/>, errors included.</summary>
    public async Task HandleAsync(string bucket)
    {
        var requestId = TransactionIdMiddleware.Of(context) ?? "";
        context.Response.Headers["x-amz-request-id"] = requestId;
        context.Response.Headers["x-amz-id-2"] = requestId;
        try
        {
            await UploadAsync(bucket);
        }
        catch (S3Error e)
        {
            await e.WriteAsync(context);
        }
        catch (Exception e) when (e is IOException or InvalidDataException && !context.RequestAborted.IsCancellationRequested)
        {
            // MultipartReader's word for a body that is not the multipart it claims to be.
            await Malformed().WriteAsync(context);
        }
    }

    private async Task UploadAsync(string bucket)
    {
        var reader = new MultipartReader(Boundary(context.Request)!, context.Request.Body);
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var budget = MaxFieldBytes;
        while (await reader.ReadNextSectionAsync(context.RequestAborted) is { } section)
        {
            if (section.GetContentDispositionHeader() is not { } disposition || HeaderUtilities.RemoveQuotes(disposition.Name).ToString() is not { Length: > 0 } name)
                throw Malformed();
            if (name.Equals("file", StringComparison.OrdinalIgnoreCase))
            {
                // Fields after the file are never read, as S3 ignores them.
                var filename = disposition.FileNameStar.HasValue ? disposition.FileNameStar.ToString() : HeaderUtilities.RemoveQuotes(disposition.FileName).ToString();
                await StoreAsync(bucket, fields, filename, section);
                return;
            }
            budget -= Encoding.UTF8.GetByteCount(name) + PerFieldCharge;
            if (budget < 0) throw FieldsTooLarge();
            var (value, length) = await ReadFieldAsync(section.Body, budget);
            budget -= length;
            fields[name] = value;
        }
        throw S3Error.InvalidArgument("POST requires exactly one file upload per request.", "file", "0");
    }

    private async Task<(string Value, int Length)> ReadFieldAsync(Stream body, int budget)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(budget + 1);
        try
        {
            var length = 0;
            int n;
            while ((n = await body.ReadAsync(buffer.AsMemory(length, budget + 1 - length), context.RequestAborted)) > 0)
            {
                length += n;
                if (length > budget) throw FieldsTooLarge();
            }
            return (Encoding.UTF8.GetString(buffer, 0, length), length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task StoreAsync(string bucket, Dictionary<string, string> fields, string filename, MultipartSection file)
    {
        var key = Required(fields, "key").Replace(FilenameVariable, filename, StringComparison.Ordinal);
        fields["key"] = key;
        // The bucket is the URL's (a form field cannot move the upload), and a policy must name it like any field.
        fields["bucket"] = bucket;
        var signed = Array.Exists(SignatureFields, fields.ContainsKey);
        S3Principal principal;
        var (min, max) = (0L, long.MaxValue);
        if (signed)
        {
            var policy = Required(fields, "policy");
            principal = await AuthenticateAsync(fields, policy);
            (min, max) = CheckPolicy(policy, fields);
            SwiftAuthState.Of(context).Identity = principal.Identity;
        }
        else
        {
            // Unsigned: acts as nobody on the bucket owner's account, so only a publicly writable bucket takes it.
            var owner = await registry.OwnerAsync(bucket, context.RequestAborted) ?? throw S3Error.NoSuchBucket(bucket);
            principal = new S3Principal("", null, owner);
        }
        if (key.Length == 0) throw S3Error.InvalidArgument("User key must have a length greater than zero.", "key", key);
        if (Encoding.UTF8.GetByteCount(key) is var keyBytes && keyBytes > options.Constraints.MaxObjectNameLength)
            throw new S3Error("KeyTooLongError", 400, "Your key is too long") { Extra = [("Size", keyBytes.ToString(CultureInfo.InvariantCulture)),
                ("MaxSizeAllowed", options.Constraints.MaxObjectNameLength.ToString(CultureInfo.InvariantCulture))] };
        await CorsHandlers.AddHeadersAsync(context, cluster, principal.Account, bucket);
        var headers = ObjectHeaders(fields, file.ContentType);
        var r = new S3Request(context, principal, next, bucket, key)
        {
            Signed = new SignedRequest("", "", "", [], "", "UNSIGNED-PAYLOAD", clock.GetUtcNow(), false, null), SigningKey = [], Registry = registry,
        };
        if (signed) await BucketPolicyEnforcer.CheckFormUploadAsync(r, cluster, options, fields.GetValueOrDefault("acl"));
        var body = new RangeCheckedStream(file.Body, min, max, context.RequestAborted);
        SwiftAnswer answer;
        try
        {
            answer = await r.SwiftAsync("PUT", r.SwiftPath(bucket, key), headers, body);
        }
        catch (PayloadException e)
        {
            throw e.Error;
        }
        if (body.Failure is { } failure) throw failure;
        if (answer.Status == 400) throw S3Error.InvalidArgument(Encoding.UTF8.GetString(answer.Body).Trim());
        if (!answer.IsSuccess) throw S3Error.FromSwift(answer.Status, bucket, answer.Status == 404 ? null : key);
        // As an object PUT with a public ACL: anonymous readers find a bucket made through Swift by its name.
        if (!principal.Anonymous && fields.GetValueOrDefault("acl") == "public-read") await registry.RegisterAsync(bucket, principal.Account, context.RequestAborted);
        await AnswerAsync(fields, bucket, key, answer);
    }

    private async Task<S3Principal> AuthenticateAsync(Dictionary<string, string> fields, string policy)
    {
        byte[] expected;
        string given;
        S3Principal principal;
        if (fields.ContainsKey("x-amz-algorithm") || fields.ContainsKey("x-amz-credential") || fields.ContainsKey("x-amz-signature"))
        {
            if (Required(fields, "x-amz-algorithm") is var algorithm && algorithm != SigV4.Algorithm)
                throw S3Error.InvalidArgument("Only AWS4-HMAC-SHA256 is supported.", "x-amz-algorithm", algorithm);
            var credential = Required(fields, "x-amz-credential");
            var date = Required(fields, "x-amz-date");
            given = Required(fields, "x-amz-signature").ToLowerInvariant();
            // <access key>/<yyyymmdd>/<region>/s3/aws4_request; the access key itself may contain '/'.
            var parts = credential.Split('/');
            if (parts.Length < 5 || parts[^1] != "aws4_request" || parts[^2] != "s3" || !date.StartsWith(parts[^4], StringComparison.Ordinal))
                throw S3Error.InvalidArgument("The x-amz-credential field is not <key>/<date>/<region>/s3/aws4_request for the x-amz-date.", "x-amz-credential", credential);
            if (!options.S3Regions.Contains(parts[^3], StringComparer.Ordinal))
                throw new S3Error("AuthorizationQueryParametersError", 400, $"Error parsing the X-Amz-Credential parameter; the region '{parts[^3]}' is wrong; expecting '{options.S3Regions[0]}'")
                    { Extra = [("Region", options.S3Regions[0])] };
            principal = await FindAsync(string.Join('/', parts[..^4]));
            var signingKey = SigV4.SigningKey(principal.Secret, string.Join('/', parts[^4..]));
            expected = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(HMACSHA256.HashData(signingKey, Encoding.UTF8.GetBytes(policy))));
        }
        else
        {
            var accessKey = Required(fields, "AWSAccessKeyId");
            given = Required(fields, "signature");
            principal = await FindAsync(accessKey);
            expected = Encoding.ASCII.GetBytes(Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(principal.Secret), Encoding.UTF8.GetBytes(policy))));
        }
        if (!CryptographicOperations.FixedTimeEquals(expected, Encoding.UTF8.GetBytes(given))) throw S3Error.SignatureDoesNotMatch();
        return principal;
    }

    private async Task<S3Principal> FindAsync(string accessKey)
    {
        foreach (var source in sources)
            if (await source.FindAsync(accessKey) is { } principal) return principal;
        throw S3Error.InvalidAccessKeyId();
    }

    /// <summary>
    /// Checks the (signature-verified) policy against the fields: expiry, every condition, and that no field goes
    /// unmentioned. Returns the content-length-range the file must fall in.
    /// </summary>
    private (long Min, long Max) CheckPolicy(string policy, Dictionary<string, string> fields)
    {
        using var document = ParsePolicy(policy);
        var root = document.RootElement;
        // The document's own keys are case-sensitive ("EXPIRATION" is no expiration); field names are not.
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("expiration", out var expiration) || expiration.ValueKind != JsonValueKind.String)
            throw InvalidPolicy("Policy missing expiration.");
        if (!DateTimeOffset.TryParseExact(expiration.GetString(), ExpirationFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var expires))
            throw InvalidPolicy($"Invalid 'expiration' value: '{expiration.GetString()}'");
        if (!root.TryGetProperty("conditions", out var conditions) || conditions.ValueKind != JsonValueKind.Array)
            throw InvalidPolicy("Policy missing conditions.");
        var (min, max) = (0L, long.MaxValue);
        var covered = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        string? failed = null;
        foreach (var condition in conditions.EnumerateArray())
        {
            if (condition.ValueKind == JsonValueKind.Object)
            {
                var pairs = 0;
                foreach (var pair in condition.EnumerateObject())
                {
                    if (++pairs > 1 || pair.Value.ValueKind != JsonValueKind.String) throw InvalidCondition(condition);
                    if (!Holds(fields, covered, pair.Name, "eq", pair.Value.GetString()!)) failed ??= condition.GetRawText();
                }
                if (pairs == 0) throw InvalidCondition(condition);
                continue;
            }
            if (condition.ValueKind != JsonValueKind.Array || condition.GetArrayLength() != 3 || condition[0].ValueKind != JsonValueKind.String)
                throw InvalidCondition(condition);
            var operation = condition[0].GetString()!.ToLowerInvariant();
            if (operation == "content-length-range")
            {
                if (!Bound(condition[1], out min) || !Bound(condition[2], out max) || min < 0 || max < min) throw InvalidCondition(condition);
                continue;
            }
            if (operation is not ("eq" or "starts-with") || condition[1].ValueKind != JsonValueKind.String || condition[2].ValueKind != JsonValueKind.String
                || condition[1].GetString() is not { Length: > 1 } field || field[0] != '$')
                throw InvalidCondition(condition);
            if (!Holds(fields, covered, field[1..], operation, condition[2].GetString()!)) failed ??= condition.GetRawText();
        }
        if (clock.GetUtcNow() > expires) throw S3Error.AccessDenied("Invalid according to Policy: Policy expired.");
        if (failed is not null) throw S3Error.AccessDenied($"Invalid according to Policy: Policy Condition failed: {failed}");
        StringBuilder? extra = null;
        foreach (var name in fields.Keys)
        {
            if (covered.Contains(name) || FieldsOutsidePolicy.Contains(name) || name.StartsWith("x-ignore-", StringComparison.OrdinalIgnoreCase)) continue;
            extra ??= new StringBuilder();
            if (extra.Length > 0) extra.Append(", ");
            extra.Append(name);
        }
        if (extra is not null) throw S3Error.AccessDenied($"Invalid according to Policy: Extra input fields: {extra}");
        return (min, max);
    }

    private static JsonDocument ParsePolicy(string policy)
    {
        try
        {
            return JsonDocument.Parse(Convert.FromBase64String(policy));
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            throw InvalidPolicy("Invalid JSON.");
        }
    }

    /// <summary>Whether an eq or starts-with condition holds (an absent field is empty); the field counts as covered either way.</summary>
    private static bool Holds(Dictionary<string, string> fields, HashSet<string> covered, string field, string operation, string expected)
    {
        covered.Add(field);
        var actual = fields.GetValueOrDefault(field) ?? "";
        return operation == "eq" ? actual == expected : actual.StartsWith(expected, StringComparison.Ordinal);
    }

    /// <summary>A content-length-range bound: a JSON integer, or one written as a string.</summary>
    private static bool Bound(JsonElement element, out long value)
    {
        value = 0;
        return element.ValueKind == JsonValueKind.Number ? element.TryGetInt64(out value)
            : element.ValueKind == JsonValueKind.String && long.TryParse(element.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>The Swift PUT's headers: the object's standard headers and metadata, its canned ACL and tags.</summary>
    private static List<KeyValuePair<string, string>> ObjectHeaders(Dictionary<string, string> fields, string? partType)
    {
        // The file's length is known only once it has streamed.
        var headers = new List<KeyValuePair<string, string>> { new("Transfer-Encoding", "chunked") };
        foreach (var (name, value) in fields)
            if (name.Length > MetaPrefix.Length && name.StartsWith(MetaPrefix, StringComparison.OrdinalIgnoreCase))
                headers.Add(Header("X-Object-Meta-" + name[MetaPrefix.Length..], value));
        foreach (var name in StoredHeaders)
            if (fields.TryGetValue(name, out var value) && value.Length > 0) headers.Add(Header(name, value));
        if (!fields.ContainsKey("Content-Type") && partType is { Length: > 0 }) headers.Add(Header("Content-Type", partType));
        // Canned ACLs as an object PUT's x-amz-acl: only public-read has a Swift equivalent.
        var acl = fields.GetValueOrDefault("acl");
        if (acl == "public-read") headers.Add(new(AclHandlers.ObjectSysmeta, "public-read"));
        else if (acl is not (null or "" or "private"))
            throw acl is "authenticated-read" or "public-read-write" or "aws-exec-read" or "bucket-owner-read" or "bucket-owner-full-control" or "log-delivery-write"
                ? S3Error.NotImplemented() : S3Error.InvalidArgument("Invalid canned ACL", "acl", acl);
        if (fields.GetValueOrDefault("tagging") is { Length: > 0 } tagging && Tags(tagging) is { Length: > 0 } tags)
            headers.Add(new(TaggingHandlers.ObjectSysmeta, tags));
        return headers;
    }

    /// <summary>A form field as a header, refused when it could not be one (a name that is no token, a value with control characters).</summary>
    private static KeyValuePair<string, string> Header(string name, string value)
    {
        foreach (var c in name)
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c))) throw S3Error.InvalidArgument("Invalid field name.", name, value);
        foreach (var c in value)
            if ((c < ' ' && c != '\t') || c == '\x7f') throw S3Error.InvalidArgument("Invalid field value.", name, value);
        return new(name, value);
    }

    /// <summary>The tagging field's XML document, encoded as tags are kept (and checked as a PUT's x-amz-tagging is).</summary>
    private static string Tags(string xml)
    {
        var document = new XmlDocument { XmlResolver = null, PreserveWhitespace = true };
        try
        {
            using var reader = XmlReader.Create(new StringReader(xml), new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
            document.Load(reader);
        }
        catch (XmlException)
        {
            throw S3Error.MalformedXml();
        }
        if (document.DocumentElement is not { LocalName: "Tagging" } root) throw S3Error.MalformedXml();
        var tags = new List<(string Key, string Value)>();
        foreach (var set in S3Xml.Children(root, "TagSet"))
            foreach (var tag in S3Xml.Children(set, "Tag"))
                tags.Add((S3Xml.ChildText(tag, "Key") ?? throw S3Error.MalformedXml(), S3Xml.ChildText(tag, "Value") ?? ""));
        return TaggingHandlers.Encode(TaggingHandlers.ParseHeader(TaggingHandlers.Encode(tags)));
    }

    /// <summary>success_action_redirect (303), else success_action_status: 201 with a PostResponse, 200, or 204 (also for any other value).</summary>
    private async Task AnswerAsync(Dictionary<string, string> fields, string bucket, string key, SwiftAnswer answer)
    {
        var response = context.Response;
        var etag = $"\"{answer.Header("ETag")?.Trim('"')}\"";
        response.Headers.ETag = etag;
        if (answer.Header("X-Object-Version-Id") is { } version) response.Headers["x-amz-version-id"] = version;
        var redirect = fields.GetValueOrDefault("success_action_redirect") ?? fields.GetValueOrDefault("redirect");
        if (redirect is { Length: > 0 } && Uri.TryCreate(redirect, UriKind.Absolute, out _))
        {
            response.StatusCode = 303;
            response.Headers.Location = redirect + (redirect.Contains('?') ? '&' : '?') + "bucket=" + Uri.EscapeDataString(bucket)
                + "&key=" + Uri.EscapeDataString(key) + "&etag=" + Uri.EscapeDataString(etag);
            response.ContentLength = 0;
            return;
        }
        switch (fields.GetValueOrDefault("success_action_status"))
        {
            case "201":
                var path = (context.Items[SigV2.VirtualBucketItem] is string ? "/" : $"/{bucket}/") + SwiftPath.QuoteKeepSlash(key);
                var location = $"{context.Request.Scheme}://{context.Request.Host}{path}";
                // S3's PostResponse carries no namespace (clients look up the bare element names).
                var xml = $"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostResponse><Location>{SecurityElement.Escape(location)}</Location>"
                    + $"<Bucket>{SecurityElement.Escape(bucket)}</Bucket><Key>{SecurityElement.Escape(key)}</Key><ETag>{SecurityElement.Escape(etag)}</ETag></PostResponse>";
                var bytes = Encoding.UTF8.GetBytes(xml);
                response.StatusCode = 201;
                response.ContentType = "application/xml";
                response.ContentLength = bytes.Length;
                await response.Body.WriteAsync(bytes, context.RequestAborted);
                break;
            case "200":
                response.StatusCode = 200;
                response.ContentLength = 0;
                break;
            default:
                response.StatusCode = 204;
                break;
        }
    }

    private static string Required(Dictionary<string, string> fields, string name) =>
        fields.TryGetValue(name, out var value) ? value
            : throw S3Error.InvalidArgument($"Bucket POST must contain a field named '{name}'.  If it is specified, please check the order of the fields.", name, "");

    private static S3Error Malformed() => new("MalformedPOSTRequest", 400, "The body of your POST request is not well-formed multipart/form-data.");
    private static S3Error FieldsTooLarge() => new("MaxPostPreDataLengthExceeded", 400, "Your POST request fields preceding the upload file were too large.");
    private static S3Error InvalidPolicy(string detail) => new("InvalidPolicyDocument", 400, $"Invalid Policy: {detail}");
    private static S3Error InvalidCondition(JsonElement condition) => InvalidPolicy($"Invalid Condition: {condition.GetRawText()}");

    /// <summary>
    /// The file's bytes on their way into the object: past the policy's maximum, at its end short of the minimum, or
    /// broken as multipart, the read fails (a PayloadException, which the object layer takes as a broken upload and
    /// stores nothing) and <see cref="Failure"/> holds the S3 error to answer.
    /// </summary>
    private sealed class RangeCheckedStream(Stream inner, long min, long max, CancellationToken aborted) : StorageCloud.Common.IO.ReadOnlyStream
    {
        private long _read;

        public S3Error? Failure { get; private set; }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int n;
            try
            {
                n = await inner.ReadAsync(buffer, cancellationToken);
            }
            catch (Exception e) when (e is IOException or InvalidDataException && !aborted.IsCancellationRequested)
            {
                throw Fail(Malformed());
            }
            _read += n;
            if (_read > max) throw Fail(new S3Error("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size"));
            if (n == 0 && buffer.Length > 0 && _read < min) throw Fail(new S3Error("EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed size"));
            return n;
        }

        private PayloadException Fail(S3Error error)
        {
            Failure = error;
            return new PayloadException(error);
        }
    }
}

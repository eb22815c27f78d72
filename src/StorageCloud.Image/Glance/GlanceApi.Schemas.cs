using System.Text.Json.Nodes;
using StorageCloud.Service.Api;

namespace StorageCloud.Image.Glance;

/// <summary>The JSON schemas clients read (glanceclient validates with them): image, images, member, members.</summary>
public sealed partial class GlanceApi
{
    private void MapSchemas()
    {
        _router.Map("GET", "/v2/schemas/image", r => ApiResponses.WriteJsonAsync(r.Context, 200, ImageSchema()));
        _router.Map("GET", "/v2/schemas/images", r => ApiResponses.WriteJsonAsync(r.Context, 200, ListSchema("images", ImageSchema())));
        _router.Map("GET", "/v2/schemas/member", r => ApiResponses.WriteJsonAsync(r.Context, 200, MemberSchema()));
        _router.Map("GET", "/v2/schemas/members", r => ApiResponses.WriteJsonAsync(r.Context, 200, ListSchema("members", MemberSchema())));
    }

    private static JsonObject Property(string type, string description, bool readOnly = false, int? maxLength = null, IEnumerable<string>? choices = null, bool nullable = false)
    {
        var p = new JsonObject { ["type"] = nullable ? new JsonArray(type, "null") : type, ["description"] = description };
        if (readOnly) p["readOnly"] = true;
        if (maxLength is { } max) p["maxLength"] = max;
        if (choices is not null)
        {
            var values = new JsonArray([.. choices.Order(StringComparer.Ordinal).Select(c => (JsonNode)c)]);
            if (nullable) values.Add(null);
            p["enum"] = values;
        }
        return p;
    }

    private static JsonObject ImageSchema() => new()
    {
        ["name"] = "image",
        ["additionalProperties"] = new JsonObject { ["type"] = "string" },
        ["properties"] = new JsonObject
        {
            ["id"] = new JsonObject { ["type"] = "string", ["description"] = "An identifier for the image", ["pattern"] = "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$" },
            ["name"] = Property("string", "Descriptive name for the image", maxLength: 255, nullable: true),
            ["status"] = Property("string", "Status of the image", readOnly: true, choices: ["queued", "saving", "active", "killed", "deleted", "uploading", "importing", "pending_delete", "deactivated"]),
            ["visibility"] = Property("string", "Scope of image accessibility", choices: ["community", "public", "private", "shared"]),
            ["protected"] = Property("boolean", "If true, image will not be deletable."),
            ["os_hidden"] = Property("boolean", "If true, image will not appear in default image list response."),
            ["checksum"] = Property("string", "md5 hash of image contents.", readOnly: true, maxLength: 32, nullable: true),
            ["os_hash_algo"] = Property("string", "Algorithm to calculate the os_hash_value", readOnly: true, maxLength: 64, nullable: true),
            ["os_hash_value"] = Property("string", "Hexdigest of the image contents using the algorithm in os_hash_algo.", readOnly: true, maxLength: 128, nullable: true),
            ["owner"] = Property("string", "Owner of the image", maxLength: 255, nullable: true),
            ["size"] = Property("integer", "Size of image file in bytes", readOnly: true, nullable: true),
            ["virtual_size"] = Property("integer", "Virtual size of image in bytes", readOnly: true, nullable: true),
            ["container_format"] = Property("string", "Format of the container", choices: ContainerFormats, nullable: true),
            ["disk_format"] = Property("string", "Format of the disk", choices: DiskFormats, nullable: true),
            ["created_at"] = Property("string", "Date and time of image registration", readOnly: true),
            ["updated_at"] = Property("string", "Date and time of the last image modification", readOnly: true),
            ["tags"] = new JsonObject { ["type"] = "array", ["description"] = "List of strings related to the image", ["items"] = new JsonObject { ["type"] = "string", ["maxLength"] = 255 } },
            ["direct_url"] = Property("string", "URL to access the image file kept in external store", readOnly: true),
            ["min_ram"] = Property("integer", "Amount of ram (in MB) required to boot image."),
            ["min_disk"] = Property("integer", "Amount of disk space (in GB) required to boot image."),
            ["self"] = Property("string", "An image self url", readOnly: true),
            ["file"] = Property("string", "An image file url", readOnly: true),
            ["stores"] = Property("string", "Store in which image data resides.", readOnly: true),
            ["schema"] = Property("string", "An image schema url", readOnly: true),
            ["locations"] = new JsonObject { ["type"] = "array", ["description"] = "A set of URLs to access the image file kept in external store", ["items"] = new JsonObject { ["type"] = "object" } },
        },
        ["links"] = new JsonArray(
            new JsonObject { ["rel"] = "self", ["href"] = "{self}" },
            new JsonObject { ["rel"] = "enclosure", ["href"] = "{file}" },
            new JsonObject { ["rel"] = "describedby", ["href"] = "{schema}" }),
    };

    private static JsonObject MemberSchema() => new()
    {
        ["name"] = "member",
        ["properties"] = new JsonObject
        {
            ["created_at"] = Property("string", "Date and time of image member creation"),
            ["image_id"] = Property("string", "An identifier for the image"),
            ["member_id"] = Property("string", "An identifier for the image member (tenantId)"),
            ["schema"] = Property("string", "A member schema url", readOnly: true),
            ["status"] = Property("string", "The status of this image member", choices: ["pending", "accepted", "rejected"]),
            ["updated_at"] = Property("string", "Date and time of last modification of image member"),
        },
    };

    private static JsonObject ListSchema(string name, JsonObject item) => new()
    {
        ["name"] = name,
        ["properties"] = new JsonObject
        {
            [name] = new JsonObject { ["type"] = "array", ["items"] = item },
            ["schema"] = new JsonObject { ["type"] = "string" },
            ["first"] = new JsonObject { ["type"] = "string" },
            ["next"] = new JsonObject { ["type"] = "string" },
        },
        ["links"] = new JsonArray(
            new JsonObject { ["rel"] = "first", ["href"] = "{first}" },
            new JsonObject { ["rel"] = "next", ["href"] = "{next}" },
            new JsonObject { ["rel"] = "describedby", ["href"] = "{schema}" }),
    };
}

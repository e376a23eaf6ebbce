using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Gateway.Data.Conversion;

/// <summary>Stores an enum as its snake_case text (see <see cref="StoreEnum"/>), the values the schema's CHECKs list.</summary>
internal sealed class StoreEnumConverter<TEnum> : ValueConverter<TEnum, string>
    where TEnum : struct, Enum
{
    public StoreEnumConverter()
        : base(value => StoreEnum.ToStoreValue(value), text => StoreEnum.FromStoreValue<TEnum>(text))
    {
    }
}

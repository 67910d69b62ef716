namespace OrleansBus.Contracts.Grains;

/// <summary>
/// The category grain refused a write (a new chunk, a sequence number, settings, a new consumer group) because the
/// category is being deleted. Crosses silos, so it has a codec; the HTTP edge answers 409 <c>category_deleting</c>.
/// </summary>
[GenerateSerializer, Alias("orleansbus.CategoryDeletingException")]
public sealed class CategoryDeletingException : Exception
{
    /// <summary>For serializers.</summary>
    public CategoryDeletingException()
    {
    }

    /// <summary>With a message of the caller's.</summary>
    public CategoryDeletingException(string message)
        : base(message)
    {
    }

    /// <summary>With a message and the failure that caused it.</summary>
    public CategoryDeletingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>For <paramref name="category"/>, being deleted.</summary>
    public static CategoryDeletingException For(string category) =>
        new($"Category {category} is being deleted; it can be created again once the deletion is done.") { Category = category };

    /// <summary>The category being deleted.</summary>
    [Id(0)]
    public string Category { get; init; } = "";

    /// <summary>The exception, or one it wraps (a store wraps grain failures), when it is this one.</summary>
    public static CategoryDeletingException? Find(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is CategoryDeletingException deleting)
                return deleting;
        }
        return null;
    }
}

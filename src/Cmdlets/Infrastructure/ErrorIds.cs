namespace ConnTrack.Infrastructure;

/// <summary>The stable error ids of the module (<c>&lt;Subject&gt;&lt;Problem&gt;</c>); scripts match on them.</summary>
public static class ErrorIds
{
    public const string CaptureFileNotFound = "CaptureFileNotFound";
    public const string CaptureFileNotACapture = "CaptureFileNotACapture";
    public const string CaptureFileTruncated = "CaptureFileTruncated";
    public const string CaptureFileCorrupt = "CaptureFileCorrupt";
    public const string CaptureLinkTypeUnsupported = "CaptureLinkTypeUnsupported";
    public const string CaptureFileAccessDenied = "CaptureFileAccessDenied";
    public const string CaptureFileReadFailed = "CaptureFileReadFailed";
    public const string CaptureFilterInvalid = "CaptureFilterInvalid";
    public const string PathNotFileSystem = "PathNotFileSystem";
    public const string ConfigFileNotFound = "ConfigFileNotFound";
    public const string ConfigFileInvalid = "ConfigFileInvalid";
    public const string ConfigParameterInvalid = "ConfigParameterInvalid";
    public const string ConfigFileExists = "ConfigFileExists";
    public const string LogFileNotFound = "LogFileNotFound";
    public const string LogFileInvalid = "LogFileInvalid";
    public const string LogFileExists = "LogFileExists";
    public const string LogFileWriteFailed = "LogFileWriteFailed";
}

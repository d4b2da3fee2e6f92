namespace MaskInversion.Core.Tests.Datasets;

/// <summary>Pickles made once with CPython 3.11 (Debian 12's python3) and kept as base64 so the tests need no Python:
/// <c>pickle.dumps(REFS, protocol=p)</c> for p = 0, 2, 4, 5; the Python 2 forms (STRING / SHORT_BINSTRING byte strings,
/// as refs(unc).p was written) by a pickler whose str is saved as UTF-8 bytes, checked with
/// <c>pickle.loads(d, encoding="utf-8") == REFS</c>. REFS is <see cref="RestrictedUnpicklerTests.Refs"/>'s structure;
/// EXTRAS holds floats, big and negative ints, bools, None, tuples and one list referenced twice; the refused ones
/// are os.system as a GLOBAL (protocol 0) and STACK_GLOBAL (4), a GLOBAL+REDUCE call, bytes (3) and a set (4).</summary>
static class Pickles
{
    public const string Python3Protocol0 =
        "KGxwMAooZHAxClZyZWZfaWQKcDIKSTAKc1Zhbm5faWQKcDMKSTEwMDEKc1ZpbWFnZV9pZApwNApJNwpzVnNwbGl0CnA1ClZ2YWwKcDYKc1ZjYX" +
        "RlZ29yeV9pZApwNwpJMQpzVmZpbGVfbmFtZQpwOApWQ09DT190cmFpbjIwMTRfMDAwMDAwMDAwMDA3XzAuanBnCnA5CnNWc2VudF9pZHMKcDEw" +
        "CihscDExCkkwCmFJMQphc1ZzZW50ZW5jZXMKcDEyCihscDEzCihkcDE0ClZ0b2tlbnMKcDE1CihscDE2ClZsZWZ0CnAxNwphVmRvZwpwMTgKYX" +
        "NWcmF3CnAxOQpWTGVmdCBkb2chCnAyMApzVnNlbnRfaWQKcDIxCkkwCnNWc2VudApwMjIKVmxlZnQgZG9nCnAyMwpzYShkcDI0CmcxNQoobHAy" +
        "NQpWYnJvd24KcDI2CmFnMTgKYXNnMTkKVmJyb3duIGRvZwpwMjcKc2cyMQpJMQpzZzIyCmcyNwpzYXNhKGRwMjgKZzIKSTEKc2czCkkxMDAyCn" +
        "NnNApJNwpzZzUKZzYKc2c3CkkxOApzZzgKVnguanBnCnAyOQpzZzEwCihscDMwCkkyCmFzZzEyCihscDMxCihkcDMyCmcxNQoobHAzMwpWY2Fm" +
        "6QpwMzQKYXNnMTkKVmNhZukgY2F0CnAzNQpzZzIxCkkyCnNnMjIKZzM1CnNhc2EoZHAzNgpnMgpJMgpzZzMKSTIwMDEKc2c0Ckk5CnNnNQpWdG" +
        "VzdEEKcDM3CnNnNwpJMQpzZzgKVnkuanBnCnAzOApzZzEwCihscDM5CkkzCmFzZzEyCihscDQwCihkcDQxCmcxNQoobHA0MgpWbWFuCnA0Mwph" +
        "c2cxOQpnNDMKc2cyMQpJMwpzZzIyCmc0MwpzYXNhLg==";
    public const string Python3Protocol2 =
        "gAJdcQAofXEBKFgGAAAAcmVmX2lkcQJLAFgGAAAAYW5uX2lkcQNN6QNYCAAAAGltYWdlX2lkcQRLB1gFAAAAc3BsaXRxBVgDAAAAdmFscQZYCw" +
        "AAAGNhdGVnb3J5X2lkcQdLAVgJAAAAZmlsZV9uYW1lcQhYIQAAAENPQ09fdHJhaW4yMDE0XzAwMDAwMDAwMDAwN18wLmpwZ3EJWAgAAABzZW50" +
        "X2lkc3EKXXELKEsASwFlWAkAAABzZW50ZW5jZXNxDF1xDSh9cQ4oWAYAAAB0b2tlbnNxD11xEChYBAAAAGxlZnRxEVgDAAAAZG9ncRJlWAMAAA" +
        "ByYXdxE1gJAAAATGVmdCBkb2chcRRYBwAAAHNlbnRfaWRxFUsAWAQAAABzZW50cRZYCAAAAGxlZnQgZG9ncRd1fXEYKGgPXXEZKFgFAAAAYnJv" +
        "d25xGmgSZWgTWAkAAABicm93biBkb2dxG2gVSwFoFmgbdWV1fXEcKGgCSwFoA03qA2gESwdoBWgGaAdLEmgIWAUAAAB4LmpwZ3EdaApdcR5LAm" +
        "FoDF1xH31xIChoD11xIVgFAAAAY2Fmw6lxImFoE1gJAAAAY2Fmw6kgY2F0cSNoFUsCaBZoI3VhdX1xJChoAksCaANN0QdoBEsJaAVYBQAAAHRl" +
        "c3RBcSVoB0sBaAhYBQAAAHkuanBncSZoCl1xJ0sDYWgMXXEofXEpKGgPXXEqWAMAAABtYW5xK2FoE2graBVLA2gWaCt1YXVlLg==";
    public const string Python3Protocol4 =
        "gASVvAEAAAAAAABdlCh9lCiMBnJlZl9pZJRLAIwGYW5uX2lklE3pA4wIaW1hZ2VfaWSUSweMBXNwbGl0lIwDdmFslIwLY2F0ZWdvcnlfaWSUSw" +
        "GMCWZpbGVfbmFtZZSMIUNPQ09fdHJhaW4yMDE0XzAwMDAwMDAwMDAwN18wLmpwZ5SMCHNlbnRfaWRzlF2UKEsASwFljAlzZW50ZW5jZXOUXZQo" +
        "fZQojAZ0b2tlbnOUXZQojARsZWZ0lIwDZG9nlGWMA3Jhd5SMCUxlZnQgZG9nIZSMB3NlbnRfaWSUSwCMBHNlbnSUjAhsZWZ0IGRvZ5R1fZQoaA" +
        "9dlCiMBWJyb3dulGgSZWgTjAlicm93biBkb2eUaBVLAWgWaBt1ZXV9lChoAksBaANN6gNoBEsHaAVoBmgHSxJoCIwFeC5qcGeUaApdlEsCYWgM" +
        "XZR9lChoD12UjAVjYWbDqZRhaBOMCWNhZsOpIGNhdJRoFUsCaBZoI3VhdX2UKGgCSwJoA03RB2gESwloBYwFdGVzdEGUaAdLAWgIjAV5LmpwZ5" +
        "RoCl2USwNhaAxdlH2UKGgPXZSMA21hbpRhaBNoK2gVSwNoFmgrdWF1ZS4=";
    public const string Python3Protocol5 =
        "gAWVvAEAAAAAAABdlCh9lCiMBnJlZl9pZJRLAIwGYW5uX2lklE3pA4wIaW1hZ2VfaWSUSweMBXNwbGl0lIwDdmFslIwLY2F0ZWdvcnlfaWSUSw" +
        "GMCWZpbGVfbmFtZZSMIUNPQ09fdHJhaW4yMDE0XzAwMDAwMDAwMDAwN18wLmpwZ5SMCHNlbnRfaWRzlF2UKEsASwFljAlzZW50ZW5jZXOUXZQo" +
        "fZQojAZ0b2tlbnOUXZQojARsZWZ0lIwDZG9nlGWMA3Jhd5SMCUxlZnQgZG9nIZSMB3NlbnRfaWSUSwCMBHNlbnSUjAhsZWZ0IGRvZ5R1fZQoaA" +
        "9dlCiMBWJyb3dulGgSZWgTjAlicm93biBkb2eUaBVLAWgWaBt1ZXV9lChoAksBaANN6gNoBEsHaAVoBmgHSxJoCIwFeC5qcGeUaApdlEsCYWgM" +
        "XZR9lChoD12UjAVjYWbDqZRhaBOMCWNhZsOpIGNhdJRoFUsCaBZoI3VhdX2UKGgCSwJoA03RB2gESwloBYwFdGVzdEGUaAdLAWgIjAV5LmpwZ5" +
        "RoCl2USwNhaAxdlH2UKGgPXZSMA21hbpRhaBNoK2gVSwNoFmgrdWF1ZS4=";
    public const string Python2Protocol0 =
        "KGxwMAooZHAxClMncmVmX2lkJwpwMgpJMApzUydhbm5faWQnCnAzCkkxMDAxCnNTJ2ltYWdlX2lkJwpwNApJNwpzUydzcGxpdCcKcDUKUyd2YW" +
        "wnCnA2CnNTJ2NhdGVnb3J5X2lkJwpwNwpJMQpzUydmaWxlX25hbWUnCnA4ClMnQ09DT190cmFpbjIwMTRfMDAwMDAwMDAwMDA3XzAuanBnJwpw" +
        "OQpzUydzZW50X2lkcycKcDEwCihscDExCkkwCmFJMQphc1Mnc2VudGVuY2VzJwpwMTIKKGxwMTMKKGRwMTQKUyd0b2tlbnMnCnAxNQoobHAxNg" +
        "pTJ2xlZnQnCnAxNwphUydkb2cnCnAxOAphc1MncmF3JwpwMTkKUydMZWZ0IGRvZyEnCnAyMApzUydzZW50X2lkJwpwMjEKSTAKc1Mnc2VudCcK" +
        "cDIyClMnbGVmdCBkb2cnCnAyMwpzYShkcDI0CmcxNQoobHAyNQpTJ2Jyb3duJwpwMjYKYWcxOAphc2cxOQpTJ2Jyb3duIGRvZycKcDI3CnNnMj" +
        "EKSTEKc2cyMgpnMjcKc2FzYShkcDI4CmcyCkkxCnNnMwpJMTAwMgpzZzQKSTcKc2c1Cmc2CnNnNwpJMTgKc2c4ClMneC5qcGcnCnAyOQpzZzEw" +
        "CihscDMwCkkyCmFzZzEyCihscDMxCihkcDMyCmcxNQoobHAzMwpTJ2NhZlx4YzNceGE5JwpwMzQKYXNnMTkKUydjYWZceGMzXHhhOSBjYXQnCn" +
        "AzNQpzZzIxCkkyCnNnMjIKZzM1CnNhc2EoZHAzNgpnMgpJMgpzZzMKSTIwMDEKc2c0Ckk5CnNnNQpTJ3Rlc3RBJwpwMzcKc2c3CkkxCnNnOApT" +
        "J3kuanBnJwpwMzgKc2cxMAoobHAzOQpJMwphc2cxMgoobHA0MAooZHA0MQpnMTUKKGxwNDIKUydtYW4nCnA0Mwphc2cxOQpnNDMKc2cyMQpJMw" +
        "pzZzIyCmc0MwpzYXNhLg==";
    public const string Python2Protocol2 =
        "gAJdcQAofXEBKFUGcmVmX2lkcQJLAFUGYW5uX2lkcQNN6QNVCGltYWdlX2lkcQRLB1UFc3BsaXRxBVUDdmFscQZVC2NhdGVnb3J5X2lkcQdLAV" +
        "UJZmlsZV9uYW1lcQhVIUNPQ09fdHJhaW4yMDE0XzAwMDAwMDAwMDAwN18wLmpwZ3EJVQhzZW50X2lkc3EKXXELKEsASwFlVQlzZW50ZW5jZXNx" +
        "DF1xDSh9cQ4oVQZ0b2tlbnNxD11xEChVBGxlZnRxEVUDZG9ncRJlVQNyYXdxE1UJTGVmdCBkb2chcRRVB3NlbnRfaWRxFUsAVQRzZW50cRZVCG" +
        "xlZnQgZG9ncRd1fXEYKGgPXXEZKFUFYnJvd25xGmgSZWgTVQlicm93biBkb2dxG2gVSwFoFmgbdWV1fXEcKGgCSwFoA03qA2gESwdoBWgGaAdL" +
        "EmgIVQV4LmpwZ3EdaApdcR5LAmFoDF1xH31xIChoD11xIVUFY2Fmw6lxImFoE1UJY2Fmw6kgY2F0cSNoFUsCaBZoI3VhdX1xJChoAksCaANN0Q" +
        "doBEsJaAVVBXRlc3RBcSVoB0sBaAhVBXkuanBncSZoCl1xJ0sDYWgMXXEofXEpKGgPXXEqVQNtYW5xK2FoE2graBVLA2gWaCt1YXVlLg==";
    public const string ExtrasProtocol0 =
        "KGRwMApWZgpwMQpGMS41CnNWbmVnCnAyCkwtMTIzNDU2Nzg5MDEyTApzVmJpZwpwMwpMMTE4MDU5MTYyMDcxNzQxMTMwMzQyNEwKc1ZuYmlnCn" +
        "A0CkwtMTE4MDU5MTYyMDcxNzQxMTMwMzQyNEwKc1Z0CnA1CihJMQpWYQpwNgpOdHA3CnNWYgpwOAoobHA5CkkwMQphSTAwCmFzVm4KcDEwCk5z" +
        "VmUKcDExCih0c1ZvbmUKcDEyCihJMQp0cDEzCnNWawpwMTQKSTMwMApzVm0KcDE1Ckk3MDAwMApzVnMxCnAxNgoobHAxNwpJMQphSTIKYXNWcz" +
        "IKcDE4CmcxNwpzLg==";
    public const string ExtrasProtocol2 =
        "gAJ9cQAoWAEAAABmcQFHP/gAAAAAAABYAwAAAG5lZ3ECigXs5WZB41gDAAAAYmlncQOKCQAAAAAAAAAAQFgEAAAAbmJpZ3EEigkAAAAAAAAAAM" +
        "BYAQAAAHRxBUsBWAEAAABhcQZOh3EHWAEAAABicQhdcQkoiIllWAEAAABucQpOWAEAAABlcQspWAMAAABvbmVxDEsBhXENWAEAAABrcQ5NLAFY" +
        "AQAAAG1xD0pwEQEAWAIAAABzMXEQXXERKEsBSwJlWAIAAABzMnESaBF1Lg==";
    public const string ExtrasProtocol4 =
        "gASVkQAAAAAAAAB9lCiMAWaURz/4AAAAAAAAjANuZWeUigXs5WZB44wDYmlnlIoJAAAAAAAAAABAjARuYmlnlIoJAAAAAAAAAADAjAF0lEsBjA" +
        "FhlE6HlIwBYpRdlCiIiWWMAW6UTowBZZQpjANvbmWUSwGFlIwBa5RNLAGMAW2USnARAQCMAnMxlF2UKEsBSwJljAJzMpRoEXUu";
    public const string Global = "Y3Bvc2l4CnN5c3RlbQpwMAou";
    public const string GlobalReduce = "Y29zCnN5c3RlbQooUydlY2hvIHB3bmVkJwp0Ui4=";
    public const string StackGlobal = "gASVFAAAAAAAAACMBXBvc2l4lIwGc3lzdGVtlJOULg==";
    public const string Bytes = "gANdcQBDA2FiY3EBYS4=";
    public const string Set = "gASVCQAAAAAAAACPlChLAUsCkC4=";
}

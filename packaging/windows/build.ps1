# Builds the one-folder interreid app on Windows (x64, Python 3.11) with the same PyInstaller spec as
# Linux (packaging/interreid.spec). NOT TESTED: no Windows machine was available; see
# packaging/WINDOWS.md for what a Windows build lacks and why.
#
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1 -Out C:\build\interreid
#
# -Wheelhouse DIR installs from a folder of win_amd64 wheels (no network) instead of the index.
param(
    [Parameter(Mandatory = $true)][string]$Out,
    [string]$Wheelhouse = "",
    [string]$Python = "py -3.11"
)
$ErrorActionPreference = "Stop"
$repo = (Resolve-Path "$PSScriptRoot\..\..").Path
$work = Join-Path $env:TEMP ("interreid-build-" + [guid]::NewGuid())
New-Item -ItemType Directory -Path $work | Out-Null
try {
    Invoke-Expression "$Python -m venv `"$work\env`""
    $pip = "$work\env\Scripts\pip.exe"
    $source = if ($Wheelhouse) { @("--no-index", "--find-links", $Wheelhouse) } else { @() }
    # The dependencies that have Windows wheels, from pyproject.toml's core list minus the two that
    # have none on the index (hnswlib 0.8.0: source only, needs MSVC; sqlcipher3-binary: Linux only).
    $deps = & "$work\env\Scripts\python.exe" -c @"
import tomllib, re
deps = tomllib.load(open(r'$repo\pyproject.toml', 'rb'))['project']['dependencies']
print('\n'.join(d for d in deps if re.split(r'[<>=!~; ]', d)[0] not in ('hnswlib', 'sqlcipher3-binary')))
"@
    & $pip install @source @($deps -split "`n")
    # hnswlib compiles when the Microsoft C++ Build Tools are installed; without it the gallery
    # index uses exact search (the default below 200,000 images anyway).
    & $pip install @source "hnswlib==0.8.0"
    if ($LASTEXITCODE -ne 0) { Write-Warning "hnswlib did not build: galleries will use exact search only." }
    # The project itself without its dependency list (which names the two packages above).
    & $pip install --no-deps $repo
    & $pip install @source "pyinstaller>=6"
    Copy-Item "$repo\packaging\launcher.py", "$repo\packaging\interreid.spec" $work
    Push-Location $work
    & "$work\env\Scripts\pyinstaller.exe" --noconfirm --log-level WARN --distpath $Out --workpath "$work\build" interreid.spec
    Pop-Location
    & "$Out\interreid\interreid.exe" --help | Out-Null
    Write-Output "$Out\interreid"
} finally {
    Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue
}

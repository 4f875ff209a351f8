//! Finding the files that `include` and `exclude` name.
//!
//! A pattern is split at `/` into a literal base directory and the
//! segments after it. The walk reads only the directories a segment can
//! match, so `/var/log/pods/*/*/*.log` lists `pods`, each pod directory and
//! each container directory, and nothing else under `/var/log`. `*`, `?`,
//! `[...]` and `{a,b}` stay within one path segment; `**` matches any
//! number of directories, as in Go's doublestar. The walk also reports the
//! directories it read, which the receiver watches for changes.

use globset::{GlobBuilder, GlobMatcher};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// One `include` or `exclude` glob.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    base: PathBuf,
    segments: Vec<Segment>,
    whole: GlobMatcher,
}

#[derive(Debug, Clone)]
enum Segment {
    Literal(String),
    Glob(GlobMatcher),
    AnyDirs,
}

fn has_magic(s: &str) -> bool {
    s.contains(['*', '?', '[', '{'])
}

fn compile(glob: &str) -> Result<GlobMatcher, globset::Error> {
    Ok(GlobBuilder::new(glob)
        .literal_separator(true)
        .backslash_escape(true)
        .build()?
        .compile_matcher())
}

impl Pattern {
    /// Parses a glob; relative ones are taken from the working directory.
    pub(crate) fn new(glob: &str) -> Result<Pattern, globset::Error> {
        let absolute = if Path::new(glob).is_absolute() {
            glob.to_owned()
        } else {
            let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
            format!("{}/{glob}", cwd.display())
        };
        let whole = compile(&absolute)?;
        let mut base = PathBuf::from("/");
        let mut segments = Vec::new();
        for part in absolute.split('/').filter(|p| !p.is_empty()) {
            if segments.is_empty() && !has_magic(part) {
                base.push(part);
            } else if part == "**" {
                segments.push(Segment::AnyDirs);
            } else if has_magic(part) {
                segments.push(Segment::Glob(compile(part)?));
            } else {
                segments.push(Segment::Literal(part.to_owned()));
            }
        }
        Ok(Pattern {
            base,
            segments,
            whole,
        })
    }

    /// True when `path` matches the whole pattern.
    pub(crate) fn matches(&self, path: &Path) -> bool {
        self.whole.is_match(path)
    }
}

/// What one walk found.
#[derive(Debug, Default)]
pub(crate) struct Found {
    /// Matching paths, sorted, each once.
    pub(crate) files: BTreeSet<PathBuf>,
    /// The directories read to find them.
    pub(crate) directories: BTreeSet<PathBuf>,
}

/// The include and exclude globs of one receiver.
#[derive(Debug, Clone)]
pub(crate) struct Finder {
    include: Vec<Pattern>,
    exclude: Vec<Pattern>,
}

impl Finder {
    /// Compiles the globs; `Config::validate` has checked them.
    pub(crate) fn new(include: &[String], exclude: &[String]) -> Result<Finder, globset::Error> {
        let compile_all = |globs: &[String]| {
            globs
                .iter()
                .map(|g| Pattern::new(g))
                .collect::<Result<_, _>>()
        };
        Ok(Finder {
            include: compile_all(include)?,
            exclude: compile_all(exclude)?,
        })
    }

    /// Walks the file system for every path that an `include` matches and
    /// no `exclude` does. Paths are not resolved: a symlink is found under
    /// its own name.
    pub(crate) fn find(&self) -> Found {
        let mut found = Found::default();
        for pattern in &self.include {
            walk(&pattern.base, &pattern.segments, &mut found);
        }
        if !self.exclude.is_empty() {
            found
                .files
                .retain(|p| !self.exclude.iter().any(|x| x.matches(p)));
        }
        found
    }
}

fn walk(dir: &Path, segments: &[Segment], found: &mut Found) {
    let Some((first, rest)) = segments.split_first() else {
        // Only files are read; `metadata` follows symlinks.
        if dir.metadata().is_ok_and(|m| m.is_file()) {
            found.files.insert(dir.to_path_buf());
        }
        return;
    };
    match first {
        Segment::Literal(name) => walk(&dir.join(name), rest, found),
        Segment::Glob(glob) => {
            for entry in read_dir(dir, found) {
                if entry
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| glob.is_match(n))
                {
                    walk(&entry, rest, found);
                }
            }
        }
        Segment::AnyDirs => {
            walk(dir, rest, found);
            for entry in read_dir(dir, found) {
                // Symlinked directories are not followed under `**`, so a
                // link to a parent cannot loop.
                if entry.symlink_metadata().is_ok_and(|m| m.is_dir()) {
                    walk(&entry, segments, found);
                }
            }
        }
    }
}

fn read_dir(dir: &Path, found: &mut Found) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    found.directories.insert(dir.to_path_buf());
    entries.filter_map(|e| e.ok().map(|e| e.path())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn touch(p: &Path) {
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, b"x\n").unwrap();
    }

    #[test]
    fn star_stays_in_one_segment_and_double_star_crosses() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for f in ["a.log", "b.txt", "sub/c.log", "sub/deep/d.log"] {
            touch(&d.join(f));
        }
        let names = |include: &str, exclude: &[&str]| {
            let ex: Vec<String> = exclude
                .iter()
                .map(|e| format!("{}/{e}", d.display()))
                .collect();
            let finder = Finder::new(&[format!("{}/{include}", d.display())], &ex).unwrap();
            finder
                .find()
                .files
                .iter()
                .map(|p| p.strip_prefix(d).unwrap().display().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(names("*.log", &[]), ["a.log"]);
        assert_eq!(names("*/*.log", &[]), ["sub/c.log"]);
        assert_eq!(
            names("**/*.log", &[]),
            ["a.log", "sub/c.log", "sub/deep/d.log"]
        );
        assert_eq!(names("**/*.log", &["sub/**"]), ["a.log"]);
        assert_eq!(names("{a,b}.*", &[]), ["a.log", "b.txt"]);
        assert_eq!(names("sub/deep/d.log", &[]), ["sub/deep/d.log"]);
    }

    #[test]
    fn symlinked_files_are_found_under_their_own_name() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real/target.log");
        touch(&target);
        fs::create_dir_all(dir.path().join("links")).unwrap();
        std::os::unix::fs::symlink(&target, dir.path().join("links/app.log")).unwrap();
        let finder = Finder::new(&[format!("{}/links/*.log", dir.path().display())], &[]).unwrap();
        let found = finder.find();
        assert_eq!(
            found.files.into_iter().collect::<Vec<_>>(),
            [dir.path().join("links/app.log")]
        );
        assert!(found.directories.contains(&dir.path().join("links")));
    }
}

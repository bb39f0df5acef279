//! Path confinement: every file tool turns the model's `path` into a real path
//! inside the session's work_dir here, and nowhere else.
//!
//! A path is joined to the work dir (absolute paths are taken as they are), then
//! the nearest existing ancestor is canonicalized (symlinks followed) and the
//! missing rest is appended after lexical `..`/`.` handling: missing parts cannot
//! be symlinks, so this is what the OS would reach. The result must start with the
//! canonical work dir, or the tool answers with an error the model can act on.
//! (A symlink swapped in between this check and the use is out of scope: the
//! agent already runs bash in the same folder.)

use std::path::{Component, Path, PathBuf};

use super::ToolCtx;

/// The work dir, canonicalized, or the error every bash/file tool gives without one.
pub fn work_dir(ctx: &ToolCtx<'_>) -> Result<PathBuf, String> {
    let dir = ctx.work_dir.ok_or_else(|| {
        "this session has no work_dir, so bash and the file tools are unavailable; \
         create the session with a work_dir to use them"
            .to_string()
    })?;
    dir.canonicalize()
        .map_err(|e| format!("the work dir {} is not usable: {e}", dir.display()))
}

/// Resolves `input` (the value of argument `arg`) to a path inside `work_dir`
/// (which must already be canonical). The path itself need not exist.
pub fn resolve(work_dir: &Path, input: &str, arg: &str) -> Result<PathBuf, String> {
    if input.is_empty() {
        return Err(format!(
            "argument `{arg}` is empty; give a path inside the work dir"
        ));
    }
    let joined = work_dir.join(input);
    // Find the nearest ancestor that exists; collect the missing tail.
    let mut existing = joined.as_path();
    let mut tail: Vec<Component<'_>> = Vec::new();
    let base = loop {
        match existing.canonicalize() {
            Ok(real) => break real,
            Err(_) => {
                let Some(parent) = existing.parent() else {
                    return Err(format!("argument `{arg}`: cannot resolve path `{input}`"));
                };
                if let Some(last) = existing.components().next_back() {
                    tail.push(last);
                }
                existing = parent;
            }
        }
    };
    let mut resolved = base;
    for part in tail.into_iter().rev() {
        match part {
            Component::ParentDir => {
                resolved.pop();
            }
            Component::Normal(name) => resolved.push(name),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    if resolved.starts_with(work_dir) {
        Ok(resolved)
    } else {
        Err(format!(
            "argument `{arg}`: `{input}` resolves to {}, which is outside the work dir {}; \
             only paths inside the work dir are allowed (use a relative path)",
            resolved.display(),
            work_dir.display()
        ))
    }
}

/// `path` as the model should see it: relative to the work dir (`.` for itself).
pub fn display(work_dir: &Path, path: &Path) -> String {
    match path.strip_prefix(work_dir) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".to_string(),
        Ok(rel) => rel.display().to_string(),
        Err(_) => path.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_dot_inside_a_missing_tail_is_lexical() {
        let root = std::env::temp_dir().canonicalize().unwrap();
        let dir = root.join(format!("wingman-path-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(
            resolve(&dir, "new/../b.txt", "path").unwrap(),
            dir.join("b.txt")
        );
        assert!(resolve(&dir, "new/../../x", "path").is_err());
        assert!(resolve(&dir, "/etc/passwd", "path").is_err());
        assert_eq!(resolve(&dir, ".", "path").unwrap(), dir);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
